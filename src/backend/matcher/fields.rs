//! Field access: every field the rules read gets a slot; an event's leaves
//! are routed to slots by path once per event. A field name is found as
//! written (nested or dotted, which the flat parser makes the same path),
//! and per naming scheme in the other shapes real logs have: evtx dumps
//! (`Event.EventData.<Name>` with spaces removed, `Event.System.<Name>`,
//! `Provider_Name`), winlogbeat (`winlog.event_data.<Name>`), and Splunk CIM
//! data-model names (`Processes.process_name` is `process_name`).

use super::json::{parse_routed_in, Leaf, ParseError};
use crate::ir::{FieldRef, FieldScheme};
use std::borrow::Cow;
use std::collections::HashMap;

pub type FieldId = u32;

/// A fast hasher for field paths (FxHash: the paths come from the rules'
/// field names, not from an adversary; `route` runs once per event leaf).
#[derive(Debug, Default, Clone, Copy)]
pub struct FxBuild;

pub struct FxHasher(u64);

impl std::hash::BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The fields of a rule set and the event paths that feed each.
#[derive(Debug, Default, Clone)]
pub struct FieldTable {
    names: Vec<String>,
    /// Per naming scheme, field name to slot.
    ids: [HashMap<String, FieldId, FxBuild>; 3],
    /// Event path to its entry in `routes`.
    by_path: HashMap<String, u32, FxBuild>,
    /// The fields each routed path feeds.
    routes: Vec<Vec<FieldId>>,
    /// Changed whenever a path is routed (see [`Shape`]); unique across
    /// tables (a clone shares it with the same routes).
    stamp: u64,
    /// Keyword searches need every string of the event.
    pub want_strings: bool,
    /// The event timestamp (a pseudo-field).
    pub time: FieldId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scheme {
    Plain,
    Sigma,
    Cim,
}

const TIME_PATHS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "_time",
    "Event.System.TimeCreated.#attributes.SystemTime",
    "Event.System.TimeCreated.SystemTime",
    "UtcTime",
    "TimeGenerated",
    "Timestamp",
];

impl FieldTable {
    pub fn new() -> FieldTable {
        let mut t = FieldTable::default();
        t.time = t.names.len() as FieldId;
        t.names.push("<timestamp>".into());
        for p in TIME_PATHS {
            t.add_route(p.to_string(), t.time);
        }
        t
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    /// The slot of a field reference (created on first use).
    pub fn intern(&mut self, f: &FieldRef) -> FieldId {
        let scheme = match f.scheme {
            FieldScheme::Sigma => Scheme::Sigma,
            FieldScheme::Cim => Scheme::Cim,
            _ => Scheme::Plain,
        };
        self.intern_name(&f.name, scheme)
    }

    /// A plain field by name (no scheme aliases).
    pub fn intern_plain(&mut self, name: &str) -> FieldId {
        self.intern_name(name, Scheme::Plain)
    }

    fn intern_name(&mut self, name: &str, scheme: Scheme) -> FieldId {
        if let Some(id) = self.ids[scheme as usize].get(name) {
            return *id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.to_string());
        self.ids[scheme as usize].insert(name.to_string(), id);
        let mut paths = vec![name.to_string()];
        match scheme {
            Scheme::Plain => {}
            Scheme::Sigma => {
                for pre in ["Event.EventData.", "Event.System.", "winlog.event_data."] {
                    paths.push(format!("{pre}{name}"));
                    paths.push(format!("{pre}{name}.#text"));
                }
                paths.push(format!("{name}.#text"));
                match name {
                    "Provider_Name" => {
                        paths.push("Event.System.Provider.#attributes.Name".into());
                        paths.push("Event.System.Provider.Name".into());
                        paths.push("winlog.provider_name".into());
                    }
                    "EventID" => paths.push("winlog.event_id".into()),
                    "Channel" => paths.push("winlog.channel".into()),
                    "Computer" => paths.push("winlog.computer_name".into()),
                    _ => {}
                }
            }
            Scheme::Cim => {
                // `Processes.process_name` (a data-model object name first).
                if let Some((obj, rest)) = name.split_once('.') {
                    if obj.starts_with(|c: char| c.is_ascii_uppercase()) {
                        paths.push(rest.to_string());
                    }
                }
            }
        }
        for p in paths {
            self.add_route(p, id);
        }
        id
    }

    fn add_route(&mut self, path: String, id: FieldId) {
        let next = self.routes.len() as u32;
        let at = *self.by_path.entry(path).or_insert(next) as usize;
        if at == self.routes.len() {
            self.routes.push(Vec::new());
        }
        if !self.routes[at].contains(&id) {
            self.routes[at].push(id);
        }
        self.stamp = STAMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    }

    fn route_index(&self, path: &str) -> Option<u32> {
        if let Some(v) = self.by_path.get(path) {
            return Some(*v);
        }
        // evtx EventData / UserData keys: spaces removed, any depth under UserData.
        for pre in ["Event.EventData.", "Event.UserData."] {
            if let Some(rest) = path.strip_prefix(pre) {
                let last = rest
                    .rsplit('.')
                    .find(|s| !s.starts_with('#'))
                    .unwrap_or(rest);
                let key: String = last.chars().filter(|c| *c != ' ').collect();
                return self.by_path.get(key.as_str()).copied();
            }
        }
        None
    }

    /// Every routed path with the fields it feeds (for code generation).
    pub fn routes(&self) -> impl Iterator<Item = (&str, &[FieldId])> {
        self.by_path
            .iter()
            .map(|(p, i)| (p.as_str(), self.routes[*i as usize].as_slice()))
    }
}

static STAMPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The paths of the last event parsed on this thread, in order, with their
/// routes: events of one source have the same keys in the same order, so a
/// key is routed by comparing it with the one at its position last time,
/// not by hashing it.
#[derive(Default)]
struct Shape {
    stamp: u64,
    keys: Vec<(String, Option<u32>)>,
}

thread_local! {
    static SHAPE: std::cell::Cell<Shape> = std::cell::Cell::default();
}

/// `a == b`, for the short keys of an event without a call to `memcmp`
/// (each key of each event is compared with the last event's): up to 32
/// bytes as two to four words that may overlap, 1 to 3 bytes as the first,
/// middle and last.
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or([0; 4]));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        17..=32 => {
            w8(a, 0) == w8(b, 0)
                && w8(a, 8) == w8(b, 8)
                && w8(a, n - 16) == w8(b, n - 16)
                && w8(a, n - 8) == w8(b, n - 8)
        }
        _ => a == b,
    }
}

/// One event as the rules see it: the leaves of every field they read.
pub struct EventView<'a> {
    /// Per field: its last value in `vals` (`NONE`: none).
    head: Vec<u32>,
    /// The values of every field, each with the field's value before it.
    vals: Vec<Val<'a>>,
    /// Every string of the event (only when keyword searches need them).
    pub strings: Vec<Leaf<'a>>,
    /// Values were no longer collected after some point (`parse_gated`).
    pub closed: bool,
    /// Some leaf may own heap memory (a string decoded on the heap): the
    /// leaves must then be dropped one by one (see [`relabel`]).
    owned: bool,
}

const NONE: u32 = u32::MAX;

/// A value of a field: the leaf (a leaf that feeds several fields is in
/// each), whether it came from an array, and the field's value before it.
struct Val<'a> {
    leaf: Leaf<'a>,
    next: u32,
    in_array: bool,
}

/// The vectors of a dropped view, kept per thread for the next one: an
/// event then costs no allocation for its view.
#[derive(Default)]
struct Spare {
    head: Vec<u32>,
    vals: Vec<Val<'static>>,
    strings: Vec<Leaf<'static>>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Spare> = std::cell::RefCell::default();
}

/// Whether a leaf owns heap memory (a string decoded on the heap).
fn owns(l: &Leaf) -> bool {
    matches!(l, Leaf::Str(Cow::Owned(_)))
}

/// An emptied vector of leaves (or values) of any lifetime, same
/// allocation (an in-place collect of nothing keeps the buffer; `filter`
/// could not change the lifetime). `owned`: some leaf may own heap memory
/// (`leaf_of`: an element's leaf, for the check of that).
#[allow(clippy::unnecessary_filter_map)]
fn relabel<T, U>(mut v: Vec<T>, owned: bool, leaf_of: impl Fn(&T) -> &Leaf) -> Vec<U> {
    if owned {
        v.clear();
    } else {
        debug_assert!(v.iter().all(|x| !owns(leaf_of(x))));
        // SAFETY: a length of 0 is within the capacity and exposes no
        // element. The leaves are not dropped, which leaks nothing: none
        // owns memory (strings borrow from the record or the arena). This
        // saves a pass over every leaf of every event.
        unsafe { v.set_len(0) };
    }
    v.into_iter().filter_map(|_| None).collect()
}

impl Drop for EventView<'_> {
    fn drop(&mut self) {
        let spare = Spare {
            head: std::mem::take(&mut self.head),
            vals: relabel(std::mem::take(&mut self.vals), self.owned, |v| &v.leaf),
            strings: relabel(std::mem::take(&mut self.strings), self.owned, |l| l),
        };
        // A thread evaluating nested views keeps the larger buffers.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.vals.capacity() <= spare.vals.capacity() {
                    *s = spare;
                }
            }
        });
    }
}

impl<'a> EventView<'a> {
    /// An empty view of `fields` slots, on the thread's spare vectors.
    fn with_slots(fields: usize) -> EventView<'a> {
        let mut s = SPARE
            .try_with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)).ok())
            .ok()
            .flatten()
            .unwrap_or_default();
        s.head.clear();
        s.head.resize(fields, NONE);
        EventView {
            head: s.head,
            // Emptied when they were spared.
            vals: relabel(s.vals, false, |v| &v.leaf),
            strings: relabel(s.strings, false, |l| l),
            closed: false,
            owned: false,
        }
    }
}

impl<'a> EventView<'a> {
    /// Parse a record and route its leaves.
    pub fn parse(table: &FieldTable, text: &'a str) -> Result<EventView<'a>, ParseError> {
        Self::parse_in(table, text, None)
    }

    /// [`EventView::parse`] with decoded strings in `arena`.
    pub fn parse_in(
        table: &FieldTable,
        text: &'a str,
        arena: Option<&'a bumpalo::Bump>,
    ) -> Result<EventView<'a>, ParseError> {
        Self::parse_gated(table, text, arena, None, |_| false)
    }

    /// [`EventView::parse_in`] that stops collecting values once `done`
    /// (asked after each collected leaf) says the event is of no interest:
    /// the rest of the record is only validated, neither decoded nor kept.
    /// `tokens`: the record's token bits, when the reader made them.
    pub fn parse_gated(
        table: &FieldTable,
        text: &'a str,
        arena: Option<&'a bumpalo::Bump>,
        tokens: Option<&'a [u64]>,
        mut done: impl FnMut(&EventView<'a>) -> bool,
    ) -> Result<EventView<'a>, ParseError> {
        let closed = std::cell::Cell::new(false);
        let mut v = EventView::with_slots(table.len());
        // Without an arena, escaped strings are decoded on the heap.
        v.owned = arena.is_none();
        let mut shape = SHAPE.try_with(std::cell::Cell::take).unwrap_or_default();
        if shape.stamp != table.stamp {
            shape = Shape {
                stamp: table.stamp,
                keys: Vec::new(),
            };
        }
        let mut k = 0;
        // (Not asked once `closed`: the parser then only validates.)
        let mut want = |path: &str| {
            let at = match shape.keys.get_mut(k) {
                Some((p, at)) if same_key(p.as_bytes(), path.as_bytes()) => *at,
                slot => {
                    let at = table.route_index(path);
                    match slot {
                        Some((p, a)) => {
                            p.clear();
                            p.push_str(path);
                            *a = at;
                        }
                        None => shape.keys.push((path.to_string(), at)),
                    }
                    at
                }
            };
            k += 1;
            let ids = at.map(|i| table.routes[i as usize].as_slice());
            (ids.is_some() || table.want_strings).then_some(ids)
        };
        let parsed = parse_routed_in(
            text,
            tokens,
            arena,
            &closed,
            &mut want,
            |_, ids, leaf, in_array| {
                if table.want_strings && matches!(leaf, Leaf::Str(_)) {
                    v.strings.push(leaf.clone());
                }
                if let Some(ids) = ids {
                    // A leaf is in every field it feeds (most feed one).
                    if let [rest @ .., last] = ids {
                        for id in rest {
                            v.link(*id, leaf.clone(), in_array);
                        }
                        v.link(*last, leaf, in_array);
                    }
                    if done(&v) {
                        closed.set(true);
                    }
                }
            },
        );
        let _ = SHAPE.try_with(|s| s.set(shape));
        parsed?;
        v.closed = closed.get();
        Ok(v)
    }

    /// An empty event (for tests and computed rows).
    pub fn empty(table: &FieldTable) -> EventView<'a> {
        EventView::with_slots(table.len())
    }

    pub fn push(&mut self, id: FieldId, leaf: Leaf<'a>, in_array: bool) {
        self.owned |= owns(&leaf);
        self.link(id, leaf, in_array);
    }

    #[inline(always)]
    fn link(&mut self, id: FieldId, leaf: Leaf<'a>, in_array: bool) {
        let idx = self.vals.len() as u32;
        let next = self.head[id as usize];
        self.vals.push(Val {
            leaf,
            next,
            in_array,
        });
        self.head[id as usize] = idx;
    }

    /// The leaves of a field, with whether each came from an array.
    pub fn values(&self, id: FieldId) -> Values<'_, 'a> {
        Values {
            view: self,
            at: self.head.get(id as usize).copied().unwrap_or(NONE),
        }
    }

    /// The first scalar of a field (for keys and timestamps).
    pub fn first(&self, id: FieldId) -> Option<&Leaf<'a>> {
        self.values(id)
            .map(|(l, _)| l)
            .filter(|l| !matches!(l, Leaf::Object))
            .last()
    }
}

pub struct Values<'v, 'a> {
    view: &'v EventView<'a>,
    at: u32,
}

impl<'v, 'a> Iterator for Values<'v, 'a> {
    type Item = (&'v Leaf<'a>, bool);
    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NONE {
            return None;
        }
        let v = &self.view.vals[self.at as usize];
        self.at = v.next;
        Some((&v.leaf, v.in_array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    /// The word compare of keys says what `==` says: for every length up
    /// to 40, a key against itself, against itself with any one byte
    /// changed, and against a key one byte longer or shorter.
    #[test]
    fn keys_compare_as_bytes_do() {
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n).map(|i| b'A' + (i * 7 % 26) as u8).collect();
            assert!(same_key(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_key(&a, &b), "{n} {i}");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!same_key(&a, &longer) && !same_key(&longer, &a), "{n}");
        }
    }

    /// Keys are routed by name whatever the last event's keys were, on
    /// this table or another, and after the table routes a new path.
    #[test]
    fn routes_follow_keys_not_positions() {
        let mut t = FieldTable::new();
        let a = t.intern_plain("a");
        let b = t.intern_plain("b");
        let mut t2 = FieldTable::new();
        let b2 = t2.intern_plain("b");
        let texts = |t: &FieldTable, e: &str, id| -> Vec<String> {
            EventView::parse(t, e)
                .unwrap()
                .values(id)
                .filter_map(|(l, _)| l.text().map(|s| s.into_owned()))
                .collect()
        };
        assert_eq!(texts(&t, r#"{"a":"1","b":"2"}"#, a), ["1"]);
        assert_eq!(texts(&t, r#"{"b":"2","a":"1"}"#, a), ["1"]);
        assert_eq!(texts(&t, r#"{"b":"2","a":"1"}"#, b), ["2"]);
        assert_eq!(texts(&t, r#"{"c":"3","b":"2"}"#, b), ["2"]);
        assert_eq!(texts(&t2, r#"{"c":"3","b":"2"}"#, b2), ["2"]);
        assert_eq!(texts(&t, r#"{"c":"3","b":"2"}"#, b), ["2"]);
        let c = t.intern_plain("c");
        assert_eq!(texts(&t, r#"{"c":"3","b":"2"}"#, c), ["3"]);
    }

    /// A leaf that feeds several fields (here `Image` as written and as a
    /// Sigma field, and `process_name` as a plain and a CIM field) is a
    /// value of each, with its array flag, and only there.
    #[test]
    fn a_leaf_feeds_every_field_of_its_path() {
        let mut t = FieldTable::new();
        let plain = t.intern_plain("Image");
        let sigma = t.intern(&FieldRef::new("Image", FieldScheme::Sigma, Span::default()));
        let pn = t.intern_plain("process_name");
        let cim = t.intern(&FieldRef::new(
            "Processes.process_name",
            FieldScheme::Cim,
            Span::default(),
        ));
        let other = t.intern_plain("User");
        let e = r#"{"Image":"x.exe","process_name":["a","b"]}"#;
        let v = EventView::parse(&t, e).unwrap();
        let vals = |id| -> Vec<(String, bool)> {
            v.values(id)
                .map(|(l, arr)| (l.text().unwrap().into_owned(), arr))
                .collect()
        };
        assert_eq!(vals(plain), [("x.exe".to_string(), false)]);
        assert_eq!(vals(sigma), [("x.exe".to_string(), false)]);
        let ab = [("b".to_string(), true), ("a".to_string(), true)];
        assert_eq!(vals(pn), ab);
        assert_eq!(vals(cim), ab);
        assert!(vals(other).is_empty());
    }

    #[test]
    fn shapes_route_to_the_same_field() {
        let mut t = FieldTable::new();
        let img = t.intern(&FieldRef::new("Image", FieldScheme::Sigma, Span::default()));
        let prov = t.intern(&FieldRef::new(
            "Provider_Name",
            FieldScheme::Sigma,
            Span::default(),
        ));
        let user = t.intern(&FieldRef::new(
            "SubjectUserName",
            FieldScheme::Sigma,
            Span::default(),
        ));
        let pn = t.intern(&FieldRef::new(
            "process.name",
            FieldScheme::Ecs,
            Span::default(),
        ));
        let cim = t.intern(&FieldRef::new(
            "Processes.process_name",
            FieldScheme::Cim,
            Span::default(),
        ));
        let e = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}}},"EventData":{"Image":"x.exe","Subject User Name":"bob"}},
                   "process":{"name":"a"},"process.name":"b","process_name":"c"}"##;
        let v = EventView::parse(&t, e).unwrap();
        let texts = |id| -> Vec<String> {
            v.values(id)
                .filter_map(|(l, _)| l.text().map(|s| s.into_owned()))
                .collect()
        };
        assert_eq!(texts(img), vec!["x.exe"]);
        assert_eq!(texts(prov), vec!["P"]);
        assert_eq!(texts(user), vec!["bob"]);
        assert_eq!(texts(pn).len(), 2);
        assert_eq!(texts(cim), vec!["c"]);
    }
}
