//! EQL `sample by k [f1] [f2] ...`: unordered events sharing join keys.
//!
//! Elastic's semantics (EQL syntax reference, "Samples"; `SampleIterator`):
//! a sample is one event per filter, all with equal join keys (the shared
//! `by` keys, then the filter's own, positionally), every event distinct;
//! chronological order, `maxspan`, `runs` and `until` play no part. Join
//! keys must be present and non-null (`?field` allows null). Elasticsearch
//! returns at most `max_samples_per_key` samples per key combination (default
//! 1, which detection rules cannot change): the matcher raises one alert per
//! key combination, when the first complete sample is seen. Its events are
//! listed in filter order.
//!
//! Which events make up the sample may differ from Elasticsearch, which
//! picks among the first hits of each filter in index order once all data is
//! in; whether a key combination has a sample does not: each filter keeps
//! its first N matching events per key (N = number of filters), and by
//! Hall's theorem a filter with N candidates can always be given one the
//! other N - 1 filters do not use, so nothing beyond them is needed.
//!
//! State: per open key at most N events per filter; keys with a sample keep
//! only a marker; keys are capped at [`STATE_CAP`] (new keys beyond it are
//! dropped and counted).

use super::fields::EventView;
use super::seq::Step;
use super::state::STATE_CAP;
use super::Alert;
use serde_json::Map;
use std::collections::HashMap;
use std::sync::Arc;

/// One stored event: its place in the input and its raw JSON.
type Held = (u64, Arc<Vec<u8>>);

enum KeyState {
    /// Per filter, the first matching events (at most one per filter count).
    Open(Vec<Vec<Held>>),
    /// A sample was found: no more for this key.
    Done,
}

pub struct Samples {
    steps: Vec<Step>,
    keys: HashMap<Vec<String>, KeyState>,
}

impl Samples {
    pub fn new(steps: Vec<Step>) -> Samples {
        Samples {
            steps,
            keys: HashMap::new(),
        }
    }

    pub fn push(
        &mut self,
        ev: &EventView,
        raw: &[u8],
        index: u64,
        ts: Option<i64>,
        evicted: &mut u64,
    ) -> Vec<Alert> {
        let n = self.steps.len();
        let mut shared: Option<Arc<Vec<u8>>> = None;
        let mut touched: Vec<Vec<String>> = Vec::new();
        for (i, st) in self.steps.iter().enumerate() {
            let Some(k) = st.key(ev) else { continue };
            if !self.keys.contains_key(&k) {
                if self.keys.len() >= STATE_CAP {
                    *evicted += 1;
                    continue;
                }
                self.keys
                    .insert(k.clone(), KeyState::Open(vec![Vec::new(); n]));
            }
            let Some(KeyState::Open(lists)) = self.keys.get_mut(&k) else {
                continue;
            };
            if lists[i].len() < n {
                let held = shared.get_or_insert_with(|| Arc::new(raw.to_vec())).clone();
                lists[i].push((index, held));
                if !touched.contains(&k) {
                    touched.push(k);
                }
            }
        }
        let mut out = Vec::new();
        for k in touched {
            let Some(KeyState::Open(lists)) = self.keys.get(&k) else {
                continue;
            };
            if lists.iter().any(Vec::is_empty) {
                continue;
            }
            let mut pick = Vec::with_capacity(n);
            if distinct(lists, &mut pick) {
                let events = pick.iter().map(|h: &&Held| h.1.as_ref().clone()).collect();
                out.push(Alert {
                    rule: 0,
                    event_index: index,
                    timestamp: ts,
                    events,
                    extra: Map::new(),
                });
                self.keys.insert(k, KeyState::Done);
            }
        }
        out
    }
}

/// One event per filter, all distinct (backtracking in filter order, first
/// events first, as Elasticsearch's `matchSamples` does).
fn distinct<'a>(lists: &'a [Vec<Held>], pick: &mut Vec<&'a Held>) -> bool {
    let Some(list) = lists.get(pick.len()) else {
        return true;
    };
    for h in list {
        if pick.iter().any(|p| p.0 == h.0) {
            continue;
        }
        pick.push(h);
        if distinct(lists, pick) {
            return true;
        }
        pick.pop();
    }
    false
}
