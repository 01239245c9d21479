//! child-process-rs: the native core of a drop-in `node:child_process`.
//!
//! Everything except `binding` is plain Rust with no napi types, testable with `cargo test`.
#![deny(clippy::all)]

pub mod errors;
pub mod ipc;
pub mod reaper;
pub mod spawn;
pub mod stdio;
pub mod tree;

pub mod sync;

pub mod binding;
