//! `siemc match`: run rules over JSON events (NDJSON, a JSON array, or
//! objects one after another; plain or gzip) and write one alert per match.

use super::match_par::{self, Outcome};
use siemc::backend::matcher::time::{format_millis, parse_millis};
use siemc::backend::matcher::{Alert, Engine};
use siemc::diag::render_text;
use siemc::driver::load_paths_with;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

pub struct Args {
    pub rules: Vec<PathBuf>,
    pub events: Vec<PathBuf>,
    pub text: bool,
    pub now: Option<String>,
    pub quiet: bool,
    pub load: siemc::source::Options,
    /// Worker threads for stateless rule sets (default: one per core).
    pub threads: Option<usize>,
}

/// Open an input, `-` for stdin; gzip is recognised by its magic bytes.
pub fn open(path: &std::path::Path) -> std::io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path)?)
    };
    let mut br = BufReader::with_capacity(1 << 16, raw);
    let gz = br.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(br))
    } else {
        Box::new(br)
    })
}

fn alert_json(engine: &Engine, a: &Alert) -> String {
    let info = engine.rule_info(a.rule);
    let mut m = serde_json::Map::new();
    m.insert("rule_id".into(), info.id.clone().into());
    m.insert("rule_name".into(), info.name.clone().into());
    m.insert(
        "severity".into(),
        info.severity
            .clone()
            .map_or(serde_json::Value::Null, Into::into),
    );
    m.insert("event_index".into(), a.event_index.into());
    m.insert(
        "timestamp".into(),
        a.timestamp
            .map_or(serde_json::Value::Null, |t| format_millis(t).into()),
    );
    for (k, v) in &a.extra {
        m.insert(k.clone(), v.clone());
    }
    // The events are written as read (validated JSON; line breaks of a
    // pretty-printed record become spaces, which JSON allows between tokens
    // and strings cannot hold raw), not parsed again.
    let mut line = serde_json::Value::Object(m).to_string();
    // Both checks vectorised: a few thousand instructions per alert with
    // `str::contains` and `from_utf8_lossy`'s byte loops.
    let raw = |line: &mut String, b: &[u8]| {
        let text = match simdutf8::basic::from_utf8(b) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(b),
        };
        if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some() {
            line.push_str(&text.replace(['\n', '\r'], " "));
        } else {
            line.push_str(&text);
        }
    };
    let one = a.extra.is_empty() || a.extra.contains_key("history_window_ms");
    match a.events.len() {
        0 => {}
        1 if one => {
            line.pop();
            line.push_str(",\"event\":");
            raw(&mut line, &a.events[0]);
            line.push('}');
        }
        _ => {
            line.pop();
            line.push_str(",\"events\":[");
            for (i, e) in a.events.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                raw(&mut line, e);
            }
            line.push_str("]}");
        }
    }
    line
}

pub fn run(a: Args) -> i32 {
    let inputs = if a.events.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        a.events.clone()
    };
    // Events are read (and cut into records) while the rules load.
    let feed = match_par::Feed::start(inputs.clone());
    // the driver resolves Sigma filters and correlations across files
    let mut loaded = load_paths_with(&a.rules, &a.load);
    for (path, d) in &loaded.file_errors {
        eprintln!("{path}: {}", d.message);
    }
    let mut rules = Vec::with_capacity(loaded.rules.len());
    let mut load_errors = 0;
    for l in &mut loaded.rules {
        let errors = l.has_errors();
        match l.rule.take() {
            // Moved, not cloned: the loaded rules are not needed again.
            Some(r) if !errors => {
                if r.meta.rule_type.as_deref() != Some("filter") {
                    rules.push(r);
                }
            }
            _ => {
                load_errors += 1;
                if !a.quiet {
                    for d in l.diags.iter().filter(|d| d.is_error()) {
                        eprint!("{}", render_text(d, &loaded.sm));
                    }
                }
            }
        }
    }
    let (mut engine, refused) = Engine::compile(&rules);
    for r in &refused {
        if !a.quiet {
            let at = if r.span.is_dummy() {
                String::new()
            } else {
                let p = loaded.sm.resolve(r.span);
                format!(
                    " ({}:{}:{})",
                    loaded.sm.get(r.span.file).path,
                    p.line,
                    p.column
                )
            };
            eprintln!(
                "refused: {} `{}`: {}{at}",
                r.rule_id, r.rule_name, r.message
            );
        }
    }
    if engine.is_empty() {
        eprintln!(
            "error: no rule can be run ({} refused, {load_errors} with errors)",
            refused.len()
        );
        return 1;
    }
    if let Some(now) = &a.now {
        match parse_millis(now) {
            Some(ms) => engine.now = Some(ms),
            None => {
                eprintln!("error: --now {now:?} is not an RFC 3339 timestamp");
                return 2;
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut per_rule: BTreeMap<usize, u64> = BTreeMap::new();
    let (mut events, mut bad, mut bytes) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let mut emit = |engine: &Engine, alerts: Vec<Alert>, out: &mut dyn Write| {
        for al in alerts {
            *per_rule.entry(al.rule).or_default() += 1;
            let line = if a.text {
                let info = engine.rule_info(al.rule);
                format!(
                    "{} [{}] {} event {}",
                    info.id,
                    info.severity.as_deref().unwrap_or("-"),
                    info.name,
                    al.event_index
                )
            } else {
                alert_json(engine, &al)
            };
            let _ = writeln!(out, "{line}");
        }
    };
    let mut status = 0;
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    match_par::run(&mut engine, feed, threads, |engine, n, outcome| {
        let path = inputs[n].display();
        match outcome {
            Outcome::Event { bytes: b, alerts } => {
                events += 1;
                bytes += b;
                emit(engine, alerts, &mut out);
            }
            Outcome::Bad { line, message } => {
                bad += 1;
                eprintln!("{path}:{line}: bad record: {message}");
            }
            Outcome::BatchEnd => {
                let _ = out.flush();
            }
            Outcome::Unreadable(e) => {
                eprintln!("error: cannot read {path}: {e}");
                status = 1;
            }
        }
    });
    let alerts = engine.finish();
    emit(&engine, alerts, &mut out);
    let _ = out.flush();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "siemc match: {} rules ({} refused, {load_errors} with errors, {} prefiltered, {} decided by the index), {events} events read, {bad} bad records, {:.0} events/s, {:.1} MB/s",
        engine.len(),
        refused.len(),
        engine.prefiltered_rules(),
        engine.decided_rules(),
        events as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    if !engine.only_correlated().is_empty() {
        eprintln!(
            "  rules run only inside correlations (no `generate: true`): {}",
            engine.only_correlated().len()
        );
    }
    if engine.evicted() > 0 {
        eprintln!(
            "  state evicted to stay within memory bounds: {}",
            engine.evicted()
        );
    }
    let total: u64 = per_rule.values().sum();
    eprintln!("  alerts: {total}");
    for (r, n) in &per_rule {
        let info = engine.rule_info(*r);
        eprintln!("    {n:>8}  {}  {}", info.id, info.name);
    }
    // The process ends here: freeing the compiled rules (automata, regexes,
    // the sources and their IR) piece by piece would only delay the exit.
    std::mem::forget(engine);
    std::mem::forget(rules);
    std::mem::forget(loaded);
    status
}
