//! The input side of `siemc match`: records cut from the inputs in order,
//! evaluated on this thread (stateful rule sets: event order matters) or on
//! several (stateless rule sets: one reader thread cuts batches of records,
//! workers evaluate them against the shared engine, and the results come
//! back here in input order, so the output is the same byte for byte).

use super::match_cmd::open;
use siemc::backend::matcher::json::Splitter;
use siemc::backend::matcher::{Alert, Engine, Worker};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

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

struct Batch {
    seq: u64,
    input: usize,
    /// Index of the first record (bad records count too).
    first: u64,
    /// The input could not be opened: why.
    unreadable: Option<String>,
    data: Vec<u8>,
    /// Per record: its line and its byte range in `data`, or why it is bad.
    recs: Vec<(usize, Slot)>,
}

type Done = (u64, usize, Vec<Outcome>);
/// A record's byte range in its batch, or why it is not an event.
type Slot = Result<(usize, usize), String>;

/// Batches in flight between the reader and the evaluation. The reader
/// starts before the rules are loaded and reads ahead while they compile
/// (loading leaves a core idle part of the time); this bounds how far:
/// at most this many batches of at most [`BATCH_BYTES`] each.
const READ_AHEAD: usize = 64;

/// The input side, started early: a reader thread cutting the inputs into
/// batches of records, in order, and the pool their buffers come back to.
pub struct Feed {
    rx: Receiver<Batch>,
    pool: Arc<Mutex<Vec<Batch>>>,
}

impl Feed {
    /// Start reading `inputs` (on a thread of its own).
    pub fn start(inputs: Vec<PathBuf>) -> Feed {
        let (tx, rx) = sync_channel::<Batch>(READ_AHEAD);
        let pool = Arc::new(Mutex::new(Vec::new()));
        let p = Arc::clone(&pool);
        std::thread::spawn(move || read_batches(&inputs, &tx, &p));
        Feed { rx, pool }
    }

    /// A batch's buffers back to the reader: fresh megabytes per batch cost
    /// page faults and kernel page zeroing (a tenth of a run).
    fn give_back(pool: &Mutex<Vec<Batch>>, b: Batch) {
        if let Ok(mut p) = pool.lock() {
            p.push(b);
        }
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
            let out: Vec<Outcome> = evaluate_with(&b, |raw, i| engine.eval(raw, i)).collect();
            for o in out {
                sink(engine, b.input, o);
            }
            sink(engine, b.input, Outcome::BatchEnd);
            Feed::give_back(&feed.pool, b);
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
                    let out =
                        evaluate_with(&b, |raw, i| engine.eval_shared(&mut w, raw, i)).collect();
                    let (seq, input) = (b.seq, b.input);
                    Feed::give_back(pool, b);
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
    mut eval: impl FnMut(&[u8], u64) -> Result<Vec<Alert>, String> + 'b,
) -> impl Iterator<Item = Outcome> + 'b {
    let unreadable = b.unreadable.clone().map(Outcome::Unreadable);
    let recs = b
        .recs
        .iter()
        .zip(b.first..)
        .map(move |((line, r), i)| match r {
            Err(m) => Outcome::Bad {
                line: *line,
                message: m.clone(),
            },
            Ok((a, z)) => {
                let raw = &b.data[*a..*z];
                outcome(eval(raw, i), raw.len(), *line)
            }
        });
    unreadable.into_iter().chain(recs)
}

/// The reader thread: cut records into batches (never spanning inputs).
fn read_batches(inputs: &[PathBuf], tx: &SyncSender<Batch>, pool: &Mutex<Vec<Batch>>) {
    let (mut seq, mut index) = (0u64, 0u64);
    let fresh = |seq: u64, input: usize, first: u64| {
        let used = pool.lock().ok().and_then(|mut p| p.pop());
        let (mut data, mut recs) = used.map_or_else(
            || {
                (
                    Vec::with_capacity(BATCH_BYTES + (BATCH_BYTES >> 2)),
                    Vec::with_capacity(BATCH_RECORDS),
                )
            },
            |b| (b.data, b.recs),
        );
        data.clear();
        recs.clear();
        Batch {
            seq,
            input,
            first,
            unreadable: None,
            data,
            recs,
        }
    };
    for (n, path) in inputs.iter().enumerate() {
        let mut b = fresh(seq, n, index);
        let reader = match open(path) {
            Ok(r) => r,
            Err(e) => {
                b.unreadable = Some(e.to_string());
                let _ = tx.send(b);
                seq += 1;
                continue;
            }
        };
        let mut sp = Splitter::new(reader);
        loop {
            if sp.drained() && !b.recs.is_empty() {
                // The next record waits for input (a pipe being written, a
                // followed log): what is here is evaluated meanwhile.
                let full = std::mem::replace(&mut b, fresh(seq + 1, n, index));
                seq += 1;
                if tx.send(full).is_err() {
                    return;
                }
            }
            let Some(rec) = sp.next_record_into(&mut b.data) else {
                break;
            };
            index += 1;
            b.recs.push(rec);
            if b.recs.len() >= BATCH_RECORDS || b.data.len() >= BATCH_BYTES {
                let full = std::mem::replace(&mut b, fresh(seq + 1, n, index));
                seq += 1;
                if tx.send(full).is_err() {
                    return;
                }
            }
        }
        if !b.recs.is_empty() {
            seq += 1;
            if tx.send(b).is_err() {
                return;
            }
        }
    }
}
