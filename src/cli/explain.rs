//! `siemc explain`: the IR of each rule, readable or as JSON.

use super::ExplainFormat;
use siemc::diag::render_text;
use siemc::driver::load_paths_with;
use siemc::ir::display::explain;
use std::path::PathBuf;

pub fn run(format: ExplainFormat, paths: &[PathBuf], load: &siemc::source::Options) -> i32 {
    let run = load_paths_with(paths, load);
    let mut code = 0;
    for l in &run.rules {
        for d in &l.diags {
            eprint!("{}", render_text(d, &run.sm));
        }
        match (&l.rule, format) {
            (Some(r), ExplainFormat::Text) => println!("{}", explain(r, Some(&run.sm))),
            (Some(r), ExplainFormat::Json) => {
                println!("{}", serde_json::to_string(r).unwrap_or_default())
            }
            (None, _) => code = 1,
        }
    }
    for (_, d) in &run.file_errors {
        eprint!("{}", render_text(d, &run.sm));
        code = 1;
    }
    code
}
