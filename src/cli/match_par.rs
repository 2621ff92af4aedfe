//! The input side of `siemc match`: a reader thread cuts the inputs into
//! batches of records, in order; they are evaluated on this thread
//! (stateful rule sets: event order matters) or by workers against the
//! shared engine (stateless rule sets), whose results come back here in
//! input order, so the output is the same byte for byte.

use super::match_cmd::open;
use siemc::backend::matcher::json::{Placed, Splitter};
use siemc::backend::matcher::{Alert, Engine, Worker};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};

/// What became of one record (or of an input that could not be opened).
pub enum Outcome {
    /// A valid event, its bytes and alerts.
    Event { bytes: u64, alerts: Vec<Alert> },
    /// Not an event: why (with the line it starts on).
    Bad { line: usize, message: String },
    /// The input could not be opened.
    Unreadable(String),
    /// The end of a batch: what was written can be flushed (a batch ends
    /// at the latest when the reader waits for input, so alerts on a
    /// followed log come out as its events arrive).
    BatchEnd,
}

/// Records per batch (and bytes, whichever is reached first; a batch also
/// ends where the reader waits for input, every read of the splitter's
/// 256 KB buffer on a file).
const BATCH_RECORDS: usize = 512;
const BATCH_BYTES: usize = 1 << 18;
/// A fresh batch's room: a full batch and a quarter more (the record that
/// fills it may run over).
const BATCH_CAPACITY: usize = BATCH_BYTES + (BATCH_BYTES >> 2);

struct Batch {
    seq: u64,
    input: usize,
    /// Index of the first record (bad records count too).
    first: u64,
    /// The input could not be opened: why.
    unreadable: Option<String>,
    data: Vec<u8>,
    /// Per record: its line and its byte range in `data`, or why it is bad.
    recs: Vec<Placed>,
    /// Per record: where its token bits start in `tokens`, [`NO_TOKENS`]
    /// when the reader's line check did not classify it.
    token_at: Vec<u32>,
    /// The token bits the line check made (`Splitter::tokens`), for the
    /// worker's parser: the reader has classified these bytes already.
    tokens: Vec<u64>,
}

const NO_TOKENS: u32 = u32::MAX;

type Done = (u64, usize, Vec<Outcome>);

/// Batches in flight between the reader and the evaluation. The reader
/// starts before the rules are loaded and reads ahead while they compile
/// (loading leaves a core idle part of the time); this bounds how far: at
/// most this many batches, holding at most [`READ_AHEAD_BYTES`] together
/// (one batch may be larger: a record can be up to 64 MiB). 4 MB is 16
/// full batches, slack enough for the workers; more only costs page faults
/// on fresh buffers (16 MB: ~4,000 more per run, a sixth of siemc's kernel
/// time on the mixed stream, with no faster run).
const READ_AHEAD: usize = 64;
const READ_AHEAD_BYTES: usize = 4 << 20;

/// The input side, started early: a reader thread cutting the inputs into
/// batches of records, in order, and the pool their buffers come back to.
pub struct Feed {
    rx: Receiver<Batch>,
    pool: Arc<Pool>,
}

impl Feed {
    /// Start reading `inputs` (on a thread of its own).
    pub fn start(inputs: Vec<PathBuf>) -> Feed {
        let (tx, rx) = sync_channel::<Batch>(READ_AHEAD);
        let pool = Arc::new(Pool::default());
        let p = Arc::clone(&pool);
        std::thread::spawn(move || read_batches(&inputs, &tx, &p));
        Feed { rx, pool }
    }
}

/// Evaluated batches' buffers, back to the reader (fresh megabytes per
/// batch cost page faults and kernel page zeroing, a tenth of a run), and
/// the bytes sent and not yet given back.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    room: Condvar,
}

#[derive(Default)]
struct PoolState {
    spare: Vec<Batch>,
    /// Bytes of the batches sent and not given back.
    in_flight: usize,
}

impl Pool {
    fn spare(&self) -> Option<Batch> {
        self.state.lock().ok()?.spare.pop()
    }

    /// Send a batch once the bytes in flight leave room for it (or none
    /// are in flight); `false` when the receiving side is gone.
    fn send(&self, tx: &SyncSender<Batch>, b: Batch) -> bool {
        let n = b.data.len();
        if let Ok(mut st) = self.state.lock() {
            while st.in_flight > 0 && st.in_flight + n > READ_AHEAD_BYTES {
                match self.room.wait(st) {
                    Ok(g) => st = g,
                    Err(_) => return false,
                }
            }
            st.in_flight += n;
        }
        tx.send(b).is_ok()
    }

    fn give_back(&self, b: Batch) {
        if let Ok(mut st) = self.state.lock() {
            st.in_flight = st.in_flight.saturating_sub(b.data.len());
            // A buffer grown by a huge record is not kept.
            if b.data.capacity() <= 4 * BATCH_BYTES {
                st.spare.push(b);
            }
        }
        self.room.notify_one();
    }
}

/// Feed every record of `feed` to the engine and `sink(input, outcome)`,
/// in input order. `threads > 1` runs a stateless engine on that many
/// worker threads.
pub fn run(
    engine: &mut Engine,
    feed: Feed,
    threads: usize,
    mut sink: impl FnMut(&Engine, usize, Outcome),
) {
    if threads <= 1 || !engine.is_stateless() {
        for b in feed.rx {
            let out: Vec<Outcome> =
                evaluate_with(&b, |raw, t, i| engine.eval_scanned(raw, t, i)).collect();
            for o in out {
                sink(engine, b.input, o);
            }
            sink(engine, b.input, Outcome::BatchEnd);
            feed.pool.give_back(b);
        }
        return;
    }
    let engine: &Engine = engine;
    let work_rx = Mutex::new(feed.rx);
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 2);
    let pool = &feed.pool;
    std::thread::scope(|sc| {
        for _ in 0..threads {
            let (rx, tx) = (&work_rx, done_tx.clone());
            sc.spawn(move || {
                let mut w = Worker::default();
                while let Some(b) = next(rx) {
                    let out = evaluate_with(&b, |raw, t, i| {
                        engine.eval_shared_scanned(&mut w, raw, t, i)
                    })
                    .collect();
                    let (seq, input) = (b.seq, b.input);
                    pool.give_back(b);
                    if tx.send((seq, input, out)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // Results back in input order.
        let mut pending: BTreeMap<u64, (usize, Vec<Outcome>)> = BTreeMap::new();
        let mut want = 0u64;
        for (seq, input, out) in done_rx {
            pending.insert(seq, (input, out));
            while let Some((input, out)) = pending.remove(&want) {
                for o in out {
                    sink(engine, input, o);
                }
                sink(engine, input, Outcome::BatchEnd);
                want += 1;
            }
        }
    });
}

/// What an evaluated record became.
fn outcome(r: Result<Vec<Alert>, String>, bytes: usize, line: usize) -> Outcome {
    match r {
        Ok(alerts) => Outcome::Event {
            bytes: bytes as u64,
            alerts,
        },
        Err(message) => Outcome::Bad { line, message },
    }
}

fn next(rx: &Mutex<Receiver<Batch>>) -> Option<Batch> {
    rx.lock().ok()?.recv().ok()
}

/// The outcomes of a batch's records, `eval(raw, index)` evaluating each
/// event (with the record's index).
fn evaluate_with<'b>(
    b: &'b Batch,
    mut eval: impl FnMut(&[u8], Option<&[u64]>, u64) -> Result<Vec<Alert>, String> + 'b,
) -> impl Iterator<Item = Outcome> + 'b {
    let unreadable = b.unreadable.clone().map(Outcome::Unreadable);
    let recs =
        b.recs
            .iter()
            .zip(&b.token_at)
            .zip(b.first..)
            .map(move |(((line, r), &t), i)| match r {
                Err(m) => Outcome::Bad {
                    line: *line,
                    message: m.clone(),
                },
                Ok((a, z)) => {
                    let raw = &b.data[*a..*z];
                    let tokens = (t != NO_TOKENS)
                        .then(|| &b.tokens[t as usize..t as usize + raw.len().div_ceil(64)]);
                    outcome(eval(raw, tokens, i), raw.len(), *line)
                }
            });
    unreadable.into_iter().chain(recs)
}

/// The reader thread: cut records into batches (never spanning inputs).
fn read_batches(inputs: &[PathBuf], tx: &SyncSender<Batch>, pool: &Pool) {
    let (mut seq, mut index) = (0u64, 0u64);
    let fresh = |seq: u64, input: usize, first: u64| {
        let used = pool.spare();
        let (mut data, mut recs, mut token_at, mut tokens) = used.map_or_else(
            || {
                (
                    Vec::with_capacity(BATCH_CAPACITY),
                    Vec::with_capacity(BATCH_RECORDS),
                    Vec::with_capacity(BATCH_RECORDS),
                    Vec::with_capacity(BATCH_CAPACITY / 64),
                )
            },
            |b| (b.data, b.recs, b.token_at, b.tokens),
        );
        data.clear();
        recs.clear();
        token_at.clear();
        tokens.clear();
        Batch {
            seq,
            input,
            first,
            unreadable: None,
            data,
            recs,
            token_at,
            tokens,
        }
    };
    for (n, path) in inputs.iter().enumerate() {
        let mut b = fresh(seq, n, index);
        let reader = match open(path) {
            Ok(r) => r,
            Err(e) => {
                b.unreadable = Some(e.to_string());
                let _ = pool.send(tx, b);
                seq += 1;
                continue;
            }
        };
        let mut sp = Splitter::new(reader);
        loop {
            // A batch is handed on when full, and when the next record
            // waits for input (a pipe being written, a followed log): what
            // is here is evaluated meanwhile.
            let full = b.recs.len() >= BATCH_RECORDS || b.data.len() >= BATCH_BYTES;
            if full || (sp.drained() && !b.recs.is_empty()) {
                let done = std::mem::replace(&mut b, fresh(seq + 1, n, index));
                seq += 1;
                if !pool.send(tx, done) {
                    return;
                }
            }
            let Some(rec) = sp.next_record_into(&mut b.data) else {
                break;
            };
            index += 1;
            b.recs.push(rec);
            b.token_at.push(match sp.tokens() {
                Some(t) if b.tokens.len() < NO_TOKENS as usize => {
                    b.tokens.extend_from_slice(t);
                    (b.tokens.len() - t.len()) as u32
                }
                _ => NO_TOKENS,
            });
        }
        if !b.recs.is_empty() {
            seq += 1;
            if !pool.send(tx, b) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn batch(bytes: usize) -> Batch {
        Batch {
            seq: 0,
            input: 0,
            first: 0,
            unreadable: None,
            data: vec![b' '; bytes],
            recs: Vec::new(),
            token_at: Vec::new(),
            tokens: Vec::new(),
        }
    }

    /// The reader waits while the batches sent and not given back hold
    /// the read-ahead budget, and goes on once one comes back; a batch
    /// larger than the budget still goes when nothing else is in flight.
    #[test]
    fn read_ahead_is_bounded_in_bytes() {
        let pool = Arc::new(Pool::default());
        let (tx, rx) = sync_channel::<Batch>(READ_AHEAD);
        assert!(pool.send(&tx, batch(READ_AHEAD_BYTES * 3 / 4)));
        let (p, t) = (Arc::clone(&pool), tx.clone());
        let (sent_tx, sent) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let ok = p.send(&t, batch(READ_AHEAD_BYTES / 2));
            let _ = sent_tx.send(ok);
        });
        assert!(
            sent.recv_timeout(Duration::from_millis(300)).is_err(),
            "over the budget: the second batch waits"
        );
        pool.give_back(rx.recv().unwrap());
        assert_eq!(sent.recv_timeout(Duration::from_secs(30)), Ok(true));
        pool.give_back(rx.recv().unwrap());
        assert!(pool.send(&tx, batch(READ_AHEAD_BYTES * 2)), "alone: goes");
    }
}
