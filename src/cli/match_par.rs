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
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

/// What became of one record (or of an input that could not be opened).
pub enum Outcome {
    /// A valid event, its bytes and alerts.
    Event { bytes: u64, alerts: Vec<Alert> },
    /// Not an event: why (with the line it starts on).
    Bad { line: usize, message: String },
    /// The input could not be opened.
    Unreadable(String),
}

/// Records per batch (and bytes, whichever is reached first).
const BATCH_RECORDS: usize = 512;
const BATCH_BYTES: usize = 1 << 20;

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

/// Feed every record of `inputs` to the engine and `sink(input, outcome)`,
/// in input order. `threads > 1` runs a stateless engine on that many
/// worker threads.
pub fn run(
    engine: &mut Engine,
    inputs: &[PathBuf],
    threads: usize,
    mut sink: impl FnMut(&Engine, usize, Outcome),
) {
    if threads <= 1 || !engine.is_stateless() {
        return sequential(engine, inputs, sink);
    }
    let engine: &Engine = engine;
    let (work_tx, work_rx) = sync_channel::<Batch>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 2);
    // Evaluated batches' buffers go back to the reader: fresh megabytes per
    // batch cost page faults and kernel page zeroing (a tenth of the run).
    let pool: Mutex<Vec<Batch>> = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for _ in 0..threads {
            let (rx, tx, pool) = (&work_rx, done_tx.clone(), &pool);
            sc.spawn(move || {
                let mut w = Worker::default();
                while let Some(b) = next(rx) {
                    let out = evaluate(engine, &mut w, &b);
                    let (seq, input) = (b.seq, b.input);
                    if let Ok(mut p) = pool.lock() {
                        p.push(b);
                    }
                    if tx.send((seq, input, out)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let pool = &pool;
        sc.spawn(move || read_batches(inputs, work_tx, pool));
        // Results back in input order.
        let mut pending: BTreeMap<u64, (usize, Vec<Outcome>)> = BTreeMap::new();
        let mut want = 0u64;
        for (seq, input, out) in done_rx {
            pending.insert(seq, (input, out));
            while let Some((input, out)) = pending.remove(&want) {
                for o in out {
                    sink(engine, input, o);
                }
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

fn evaluate(engine: &Engine, w: &mut Worker, b: &Batch) -> Vec<Outcome> {
    if let Some(m) = &b.unreadable {
        return vec![Outcome::Unreadable(m.clone())];
    }
    b.recs
        .iter()
        .zip(b.first..)
        .map(|((line, r), i)| match r {
            Err(m) => Outcome::Bad {
                line: *line,
                message: m.clone(),
            },
            Ok((a, z)) => {
                let raw = &b.data[*a..*z];
                outcome(engine.eval_shared(w, raw, i), raw.len(), *line)
            }
        })
        .collect()
}

/// The reader thread: cut records into batches (never spanning inputs).
fn read_batches(
    inputs: &[PathBuf],
    tx: std::sync::mpsc::SyncSender<Batch>,
    pool: &Mutex<Vec<Batch>>,
) {
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
        while let Some(rec) = sp.next_record() {
            index += 1;
            match rec.result {
                Err(m) => b.recs.push((rec.line, Err(m))),
                Ok(raw) => {
                    let a = b.data.len();
                    b.data.extend_from_slice(&raw);
                    b.recs.push((rec.line, Ok((a, b.data.len()))));
                    sp.recycle(raw);
                }
            }
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

fn sequential(
    engine: &mut Engine,
    inputs: &[PathBuf],
    mut sink: impl FnMut(&Engine, usize, Outcome),
) {
    let mut index = 0u64;
    for (n, path) in inputs.iter().enumerate() {
        let reader = match open(path) {
            Ok(r) => r,
            Err(e) => {
                sink(engine, n, Outcome::Unreadable(e.to_string()));
                continue;
            }
        };
        let mut sp = Splitter::new(reader);
        while let Some(rec) = sp.next_record() {
            let i = index;
            index += 1;
            let outcome = match rec.result {
                Err(message) => Outcome::Bad {
                    line: rec.line,
                    message,
                },
                Ok(raw) => {
                    let o = outcome(engine.eval(&raw, i), raw.len(), rec.line);
                    sp.recycle(raw);
                    o
                }
            };
            sink(engine, n, outcome);
        }
    }
}
