//! The command line: parse arguments, call the library, render, exit code.
//! Exit codes: 0 success, 1 a rule has errors (or was refused), 2 usage errors.

mod check;
mod convert;
mod explain;
mod match_cmd;
mod match_par;
mod sarif;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "siemc",
    version,
    about = "A compiler for SIEM detection rules (Elastic, Splunk, Sigma)"
)]
pub struct Cli {
    /// Read Splunk macro definitions (`*.yml`) from DIR instead of the
    /// nearest `macros/` folder above each detection.
    #[arg(long, global = true, value_name = "DIR")]
    pub macros: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and lower rules; report every problem with its position.
    Check {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Rule files or folders (searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Convert rules to another platform's language.
    Convert {
        /// The target language.
        #[arg(long = "to", value_enum)]
        to: TargetArg,
        /// text: the converted rules; json: one NDJSON object per rule.
        #[arg(long, value_enum, default_value_t = ConvertFormat::Text)]
        format: ConvertFormat,
        /// Write one file per rule under DIR, mirroring the input tree
        /// (`--to rust`: one module, DIR/rules.rs or the FILE.rs given).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Refuse anything approximate (the default).
        #[arg(long, conflicts_with = "lenient")]
        strict: bool,
        /// Emit approximate conversions with their caveats recorded.
        #[arg(long)]
        lenient: bool,
        /// A field/table mapping file overriding the embedded one.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Kusto schema family.
        #[arg(long, value_enum)]
        schema: Option<SchemaArg>,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run rules over JSON events (NDJSON, a JSON array, concatenated objects; plain or .gz).
    Match {
        /// Rule files or folders.
        #[arg(long, required = true, num_args = 1..)]
        rules: Vec<PathBuf>,
        /// Event files (`-` for stdin, the default).
        #[arg(long, num_args = 1..)]
        events: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = MatchFormat::Ndjson)]
        format: MatchFormat,
        /// The time `now()` and relative windows refer to (RFC 3339).
        #[arg(long, value_name = "TIMESTAMP")]
        now: Option<String>,
        /// Do not print refused rules and rule errors.
        #[arg(long)]
        quiet: bool,
        /// Threads evaluating events when every rule is stateless (default:
        /// one per core; rule sets with sequences or aggregations run on one).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Show the intermediate representation of rules.
    Explain {
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetArg {
    Sigma,
    Kql,
    /// One standalone Rust module for all the rules (serde_json + regex).
    Rust,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvertFormat {
    Text,
    Json,
    /// Kusto only: a Microsoft Sentinel analytics-rule YAML per rule.
    SentinelYaml,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaArg {
    Xdr,
    Sentinel,
    Asim,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchFormat {
    Ndjson,
    Text,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    Text,
    Json,
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let load = siemc::source::Options {
        macros_dir: cli.macros.clone(),
    };
    match cli.command {
        Command::Check { format, paths } => check::run(format, &paths, &load),
        Command::Explain { format, paths } => explain::run(format, &paths, &load),
        Command::Match {
            rules,
            events,
            format,
            now,
            quiet,
            threads,
        } => match_cmd::run(match_cmd::Args {
            rules,
            events,
            text: format == MatchFormat::Text,
            now,
            quiet,
            load,
            threads,
        }),
        Command::Convert {
            to,
            format,
            out,
            strict: _,
            lenient,
            mapping,
            schema,
            paths,
        } => {
            let target = match to {
                TargetArg::Sigma => siemc::backend::Target::Sigma,
                TargetArg::Kql => siemc::backend::Target::Kql,
                TargetArg::Rust => siemc::backend::Target::Rust,
            };
            if format == ConvertFormat::SentinelYaml && target != siemc::backend::Target::Kql {
                eprintln!("error: --format sentinel-yaml goes with --to kql");
                return 2;
            }
            let opts = siemc::backend::Options {
                lenient,
                mapping,
                schema: schema.map(|s| format!("{s:?}").to_ascii_lowercase()),
                flavor: (format == ConvertFormat::SentinelYaml)
                    .then(|| "sentinel-yaml".to_string()),
            };
            convert::run(convert::Args {
                target,
                json: format == ConvertFormat::Json,
                out,
                opts,
                paths,
                load,
            })
        }
    }
}
