//! siemc: a compiler for SIEM detection rules.
//!
//! Stages (data flows one way):
//!
//! | stage | module | output |
//! |---|---|---|
//! | file → document | [`source`] | metadata + embedded query text + its [`span::Origin`] |
//! | document → AST | [`lang`]`::<language>::parse` | a per-language AST with spans |
//! | AST → IR | [`lang`]`::<language>::lower` | [`ir::Rule`] |
//! | IR → target | `backend` | Sigma, Kusto, matcher |

// Diagnostics are the error type everywhere; they are built on the error path
// only, so their size does not matter for speed.
#![allow(clippy::result_large_err)]

pub mod backend;
pub mod diag;
pub mod driver;
pub mod ir;
pub mod lang;
pub mod mapping;
pub mod source;
pub mod span;
