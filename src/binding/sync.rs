//! The napi edge of `spawnSync`: the whole run (spawn, poll loop, reap) is one native call.
//! It returns plain data; `lib/internal/spawn_sync.js` shapes Node's result and builds the errors.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::{plan_from, SpawnOptions};
use crate::spawn::StdioSpec;
use crate::sync::{spawn_sync as run, SyncOptions, SyncOutcome};

/// The options only `spawnSync` has, already validated by JS the way Node validates them.
#[napi(object)]
pub struct SyncLimits {
  /// Milliseconds; 0 or absent: none.
  pub timeout: Option<f64>,
  /// A signal number. Absent: SIGTERM.
  pub kill_signal: Option<i32>,
  /// Bytes over all output pipes together; absent, 0 or Infinity: no limit (Node's rule).
  pub max_buffer: Option<f64>,
}

/// `error` is 0 or a negative errno. `output` is absent when the child never started; else one
/// entry per stdio slot, a Buffer for each output pipe and null for every other slot.
#[napi(object)]
pub struct SyncResult {
  pub pid: i32,
  pub status: Option<i32>,
  pub signal: Option<i32>,
  pub output: Option<Vec<Option<Buffer>>>,
  pub error: i32,
}

fn result_from(outcome: SyncOutcome) -> SyncResult {
  SyncResult {
    pid: outcome.pid,
    status: outcome.status,
    signal: outcome.signal,
    output: outcome
      .output
      .map(|slots| slots.into_iter().map(|o| o.map(Buffer::from)).collect()),
    error: outcome.error.map_or(0, |e| e.to_uv()),
  }
}

/// Runs a child to completion. `input` is written to stdio slot 0 when that slot is a pipe: in
/// Node only slot 0 is a pipe the child reads (`readable: i === 0` in getValidStdio), every other
/// pipe is an output.
#[napi]
pub fn spawn_sync(
  options: SpawnOptions,
  limits: SyncLimits,
  input: Option<BufferSlice>,
) -> Result<SyncResult> {
  let plan = match plan_from(options) {
    Ok(plan) => plan,
    Err(e) => {
      return Ok(result_from(SyncOutcome {
        error: Some(e),
        ..SyncOutcome::default()
      }))
    }
  };
  let input: &[u8] = input.as_deref().unwrap_or(&[]);
  let inputs = match plan.stdio.first() {
    Some(StdioSpec::Pipe) => vec![(0, input)],
    _ => Vec::new(),
  };
  let options = SyncOptions {
    inputs,
    timeout: limits
      .timeout
      .filter(|t| *t >= 1.0)
      .map(|t| Duration::from_millis(t as u64)),
    kill_signal: limits.kill_signal.unwrap_or(libc::SIGTERM),
    // An integer count n exceeds a real limit m exactly when it exceeds floor(m).
    max_buffer: limits
      .max_buffer
      .filter(|m| *m > 0.0 && m.is_finite())
      .map(|m| m as u64),
  };
  // A panic must not unwind into Node (that aborts the process): make it a JS exception. The
  // runner kills and reaps its child while unwinding.
  catch_unwind(AssertUnwindSafe(|| run(&plan, &options)))
    .map(result_from)
    .map_err(|_| {
      Error::new(
        Status::GenericFailure,
        "child-process-rs: spawnSync panicked",
      )
    })
}
