//! `siemc check`: load and lower every rule, report diagnostics.

use super::{sarif, Format};
use siemc::diag::{render_text, to_json, Diagnostic};
use siemc::driver::{load_paths_with, Run};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

pub fn run(format: Format, paths: &[PathBuf], load: &siemc::source::Options) -> i32 {
    let t0 = Instant::now();
    let run = load_paths_with(paths, load);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let failed = run.rules.iter().filter(|r| r.has_errors()).count();
    let warnings: usize = run
        .rules
        .iter()
        .map(|r| r.diags.iter().filter(|d| !d.is_error()).count())
        .sum::<usize>();
    match format {
        Format::Text => {
            for l in &run.rules {
                for d in &l.diags {
                    let _ = out.write_all(render_text(d, &run.sm).as_bytes());
                }
            }
            for (_, d) in &run.file_errors {
                let _ = out.write_all(render_text(d, &run.sm).as_bytes());
            }
            let _ = out.flush();
            eprintln!(
                "checked {} rules: {} ok, {} with errors, {} warnings in {:.2} s",
                run.rules.len(),
                run.rules.len() - failed,
                failed,
                warnings,
                t0.elapsed().as_secs_f64()
            );
        }
        Format::Json => {
            for l in &run.rules {
                let v = serde_json::json!({
                    "path": run.sm.get(l.file).path,
                    "rule_id": l.meta.id,
                    "name": l.meta.name,
                    "format": l.format.as_str(),
                    "language": l.language.map(|x| x.as_str()),
                    "status": if l.has_errors() { "error" } else { "ok" },
                    "diagnostics": l.diags.iter().map(|d| to_json(d, &run.sm)).collect::<Vec<_>>(),
                });
                let _ = writeln!(out, "{v}");
            }
            for (path, d) in &run.file_errors {
                let v = serde_json::json!({
                    "path": path, "rule_id": null, "name": null, "format": null, "language": null,
                    "status": "error", "diagnostics": [to_json(d, &run.sm)],
                });
                let _ = writeln!(out, "{v}");
            }
        }
        Format::Sarif => {
            let sm = &run.sm;
            let all: Vec<(&Diagnostic, Option<&str>)> = run
                .rules
                .iter()
                .flat_map(|l| {
                    l.diags
                        .iter()
                        .map(move |d| (d, Some(sm.get(l.file).path.as_str())))
                })
                .chain(run.file_errors.iter().map(|(p, d)| (d, Some(p.as_str()))))
                .collect();
            let _ = writeln!(out, "{}", sarif::report(&all, &run.sm));
        }
    }
    exit_code(&run)
}

fn exit_code(run: &Run) -> i32 {
    if run.rules.iter().any(|r| r.has_errors()) || !run.file_errors.is_empty() {
        1
    } else {
        0
    }
}
