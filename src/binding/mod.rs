//! The napi edge. It converts JS values to the plain Rust types of the core and back, and owns the
//! threadsafe function through which the reaper reports exits. Nothing here builds a JS `Error`:
//! failures travel as negative errno numbers and JS makes Node's error objects from them.

pub mod ipc;

use std::ffi::CString;
use std::os::fd::IntoRawFd;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::errors::Errno;
use crate::reaper::{self, Exit};
use crate::spawn::{self, SpawnPlan, StdioSpec};

/// One stdio slot as JS describes it.
#[napi(object)]
pub struct StdioSlot {
  /// `'pipe'`, `'ignore'` or `'fd'`.
  pub kind: String,
  pub fd: Option<i32>,
}

/// The normalised options of `ChildProcess#spawn`, as `lib/internal/child_process.js` builds them.
#[napi(object)]
pub struct SpawnOptions {
  pub file: String,
  pub args: Vec<String>,
  pub env_pairs: Vec<String>,
  pub cwd: Option<String>,
  pub stdio: Vec<StdioSlot>,
  pub detached: Option<bool>,
  pub uid: Option<i64>,
  pub gid: Option<i64>,
  pub parent_death_signal: Option<i32>,
}

/// `err` is 0 or a negative errno. `stdio[i]` is the parent's fd for a `'pipe'` slot, else -1.
/// JS owns those fds from here on.
#[napi(object)]
pub struct SpawnResult {
  pub err: i32,
  pub pid: i32,
  pub stdio: Vec<i32>,
}

/// Arguments of the exit callback: (pid, exitCode, signal, resource usage).
/// The resource usage is [userCPU µs, systemCPU µs, maxRSS KiB, minflt, majflt, inblock,
/// oublock, nvcsw, nivcsw], the fields of `wait4`'s rusage that Node's `resourceUsage()` names.
type ExitArgs = FnArgs<(i32, Option<i32>, Option<i32>, Vec<f64>)>;
/// Weak: the engine alone never keeps the event loop alive; JS refs it while it has ref'd children.
type ExitTsfn = ThreadsafeFunction<Exit, (), ExitArgs, Status, false, true, 0>;

fn timeval_us(tv: libc::timeval) -> f64 {
  tv.tv_sec as f64 * 1e6 + tv.tv_usec as f64
}

fn exit_args(exit: Exit) -> ExitArgs {
  let ru = exit.rusage;
  let usage = vec![
    timeval_us(ru.ru_utime),
    timeval_us(ru.ru_stime),
    ru.ru_maxrss as f64,
    ru.ru_minflt as f64,
    ru.ru_majflt as f64,
    ru.ru_inblock as f64,
    ru.ru_oublock as f64,
    ru.ru_nvcsw as f64,
    ru.ru_nivcsw as f64,
  ];
  FnArgs::from((exit.pid, exit.code, exit.signal, usage))
}

/// One per loaded copy of the JS module (and so per Node env: main thread, each worker, each jest
/// registry). It spawns children and reports their exits to the callback it was made with.
#[napi]
pub struct Engine {
  on_exit: Arc<ExitTsfn>,
}

fn c_string(s: String) -> std::result::Result<CString, Errno> {
  CString::new(s).map_err(|_| Errno(libc::EINVAL))
}

fn plan_from(options: SpawnOptions) -> std::result::Result<SpawnPlan, Errno> {
  let stdio = options
    .stdio
    .iter()
    .map(|slot| match (slot.kind.as_str(), slot.fd) {
      ("pipe", _) => Ok(StdioSpec::Pipe),
      ("ignore", _) => Ok(StdioSpec::Ignore),
      ("fd", Some(fd)) if fd >= 0 => Ok(StdioSpec::Fd(fd)),
      _ => Err(Errno(libc::EINVAL)),
    })
    .collect::<std::result::Result<Vec<_>, _>>()?;
  let id = |v: Option<i64>| -> std::result::Result<Option<u32>, Errno> {
    v.map(|v| u32::try_from(v).map_err(|_| Errno(libc::EINVAL)))
      .transpose()
  };
  Ok(SpawnPlan {
    file: c_string(options.file)?,
    argv: options
      .args
      .into_iter()
      .map(c_string)
      .collect::<std::result::Result<_, _>>()?,
    envp: options
      .env_pairs
      .into_iter()
      .map(c_string)
      .collect::<std::result::Result<_, _>>()?,
    cwd: options.cwd.map(c_string).transpose()?,
    stdio,
    detached: options.detached.unwrap_or(false),
    uid: id(options.uid)?,
    gid: id(options.gid)?,
    parent_death_signal: options.parent_death_signal,
  })
}

#[napi]
impl Engine {
  #[napi(constructor)]
  pub fn new(on_exit: Function<'_, ExitArgs, ()>) -> Result<Self> {
    let tsfn = on_exit
      .build_threadsafe_function::<Exit>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(|ctx| Ok(exit_args(ctx.value)))?;
    Ok(Engine {
      on_exit: Arc::new(tsfn),
    })
  }

  /// Spawns a child. Never throws for an OS error: `err` carries it.
  #[napi]
  pub fn spawn(&self, options: SpawnOptions) -> SpawnResult {
    let plan = match plan_from(options) {
      Ok(plan) => plan,
      Err(e) => {
        return SpawnResult {
          err: e.to_uv(),
          pid: 0,
          stdio: Vec::new(),
        }
      }
    };
    let outcome = spawn::spawn(&plan);
    let stdio = outcome
      .stdio
      .into_iter()
      .map(|fd| fd.map(IntoRawFd::into_raw_fd).unwrap_or(-1))
      .collect();
    match outcome.result {
      Ok(pid) => {
        let on_exit = Arc::clone(&self.on_exit);
        reaper::watch(
          pid,
          Box::new(move |exit| {
            // Closing means the env is gone (worker terminated): the child is reaped all the
            // same, there is just nobody left to tell.
            on_exit.call(exit, ThreadsafeFunctionCallMode::NonBlocking);
          }),
        );
        SpawnResult { err: 0, pid, stdio }
      }
      Err(e) => SpawnResult {
        err: e.to_uv(),
        pid: 0,
        stdio,
      },
    }
  }

  /// Keeps the event loop alive until `unref()`. JS calls this while it has ref'd live children.
  #[napi(js_name = "ref")]
  pub fn keep_alive(&self, env: Env) -> Result<()> {
    // SAFETY: called on the JS thread of the env that owns the tsfn, which is alive.
    check_status!(unsafe { napi::sys::napi_ref_threadsafe_function(env.raw(), self.on_exit.raw()) })
  }

  #[napi]
  pub fn unref(&self, env: Env) -> Result<()> {
    // SAFETY: as in keep_alive.
    check_status!(unsafe {
      napi::sys::napi_unref_threadsafe_function(env.raw(), self.on_exit.raw())
    })
  }
}

/// Sends `signal` to our child `pid` through its pidfd. Returns 0 or a negative errno.
#[napi]
pub fn kill(pid: i32, signal: i32) -> i32 {
  match reaper::send_signal(pid, signal) {
    Ok(()) => 0,
    Err(e) => e.to_uv(),
  }
}

/// Signals the process group of `pid`. Returns 0 or a negative errno.
#[napi]
pub fn kill_group(pid: i32, signal: i32) -> i32 {
  match reaper::kill_group(pid, signal) {
    Ok(()) => 0,
    Err(e) => e.to_uv(),
  }
}
