//! `siemc convert --to rust`: a standalone Rust module per rule set.
