//! The Sigma front-end: the condition grammar, value modifiers and the
//! lowering of a `detection` section into the IR.

pub mod ast;
pub mod parse;
pub mod values;
