//! The `siemc` binary: a thin shell over the library (see `cli/`).

mod cli;

// mimalloc: rule loading builds many small trees and automata; glibc malloc
// was a fifth of load time in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
