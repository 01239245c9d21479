//! The napi edge. It converts JS values to the plain Rust types of the core and back, and owns the
//! threadsafe function through which the reaper reports exits. Nothing here builds a JS `Error`:
//! failures travel as negative errno numbers and JS makes Node's error objects from them.

mod exit_poll;
pub mod ipc;
mod uv;

use std::ffi::CString;
use std::os::fd::IntoRawFd;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::errors::Errno;
use crate::reaper::{self, Exit};
use crate::spawn::{self, SpawnPlan, StdioSpec};

pub mod sync;

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
  /// `KEY=value` pairs; none means "this process's environ", as libuv does without an env.
  pub env_pairs: Option<Vec<String>>,
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
  /// True when the exit is watched on the event loop (a ref'd uv_poll handle per child: use
  /// `setRef`); false when the reaper thread watches it (JS refs the engine: `ref`/`unref`).
  pub polled: bool,
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

fn rusage_fields(ru: &libc::rusage) -> [f64; 9] {
  [
    timeval_us(ru.ru_utime),
    timeval_us(ru.ru_stime),
    ru.ru_maxrss as f64,
    ru.ru_minflt as f64,
    ru.ru_majflt as f64,
    ru.ru_inblock as f64,
    ru.ru_oublock as f64,
    ru.ru_nvcsw as f64,
    ru.ru_nivcsw as f64,
  ]
}

fn exit_args(exit: Exit) -> ExitArgs {
  let usage = rusage_fields(&exit.rusage).to_vec();
  FnArgs::from((exit.pid, exit.code, exit.signal, usage))
}

/// One per loaded copy of the JS module (and so per Node env: main thread, each worker, each jest
/// registry) while that copy has live children. It spawns children and reports their exits to the
/// callback it was made with.
///
/// JS `close()`s it when its last child is gone, which releases the threadsafe function. Even
/// weak and unref'd, a live tsfn is an async resource without `hasRef()`, so tools that look
/// for leaks (jest --detectOpenHandles, why-is-node-running) list it forever; Node's own process
/// handles are destroyed when their child exits, and so is ours now.
#[napi]
pub struct Engine {
  /// The JS exit callback, kept to make `on_exit` when a child needs the reaper thread.
  callback: FunctionRef<ExitArgs, ()>,
  /// The reaper thread's way back to JS (the fallback when the loop cannot watch a pidfd). Made
  /// for the first such child only, and dropped by `close()` when JS has no child left: even weak
  /// and unref'd, a live tsfn is an async resource without `hasRef()`, so leak finders (jest
  /// --detectOpenHandles, why-is-node-running) would list it forever. The reaper's callbacks
  /// hold their own clones, so closing never cuts off a child that still runs.
  on_exit: Option<Arc<ExitTsfn>>,
  /// Exit watching on the event loop: the fast path, which needs no threadsafe function.
  watcher: Option<Rc<exit_poll::Watcher>>,
}

fn c_string(s: String) -> std::result::Result<CString, Errno> {
  CString::new(s).map_err(|_| Errno(libc::EINVAL))
}

/// A copy of this process's environment. JS only asks for it on the main thread while no worker
/// (which could change the environment concurrently) exists.
fn environ() -> Vec<CString> {
  use std::os::unix::ffi::OsStrExt;
  std::env::vars_os()
    .filter_map(|(k, v)| {
      let mut kv = Vec::with_capacity(k.len() + v.len() + 1);
      kv.extend_from_slice(k.as_bytes());
      kv.push(b'=');
      kv.extend_from_slice(v.as_bytes());
      CString::new(kv).ok()
    })
    .collect()
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
  // JS has checked that ids are int32. libuv stores them into uid_t/gid_t as they are, so -5
  // becomes 4294967291 (a valid id for root) and -1 becomes (uid_t)-1, which setuid rejects with
  // EINVAL in the child. Same wrapping here.
  let id = |v: Option<i64>| -> std::result::Result<Option<u32>, Errno> {
    v.map(|v| {
      i32::try_from(v)
        .map(|v| v as u32)
        .map_err(|_| Errno(libc::EINVAL))
    })
    .transpose()
  };
  Ok(SpawnPlan {
    file: c_string(options.file)?,
    argv: options
      .args
      .into_iter()
      .map(c_string)
      .collect::<std::result::Result<_, _>>()?,
    envp: match options.env_pairs {
      Some(pairs) => pairs
        .into_iter()
        .map(c_string)
        .collect::<std::result::Result<_, _>>()?,
      None => environ(),
    },
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
  pub fn new(env: Env, on_exit: Function<'_, ExitArgs, ()>) -> Result<Self> {
    // CHILD_PROCESS_RS_REAPER_THREAD=1 forces the fallback path (for its tests).
    let watcher = if std::env::var_os("CHILD_PROCESS_RS_REAPER_THREAD").is_some() {
      None
    } else {
      exit_poll::Watcher::new(env.raw(), on_exit.raw())
    };
    Ok(Engine {
      callback: on_exit.create_ref()?,
      on_exit: None,
      watcher,
    })
  }

  /// Releases the reaper thread's threadsafe function, if any. JS calls this when it has no live
  /// child; the next child that needs the reaper thread makes a new one.
  #[napi]
  pub fn close(&mut self) {
    self.on_exit = None;
  }

  /// The threadsafe function for a child watched by the reaper thread, made on first use.
  fn reaper_callback(&mut self, env: &Env) -> Result<Arc<ExitTsfn>> {
    if let Some(on_exit) = &self.on_exit {
      return Ok(Arc::clone(on_exit));
    }
    let on_exit = Arc::new(
      self
        .callback
        .borrow_back(env)?
        .build_threadsafe_function::<Exit>()
        .callee_handled::<false>()
        .weak::<true>()
        .build_callback(|ctx| Ok(exit_args(ctx.value)))?,
    );
    self.on_exit = Some(Arc::clone(&on_exit));
    Ok(on_exit)
  }

  /// Spawns a child. Never throws for an OS error: `err` carries it. `resource` (the JS handle)
  /// is the async resource of the exit callback.
  #[napi]
  pub fn spawn(
    &mut self,
    env: Env,
    options: SpawnOptions,
    resource: Option<Object>,
  ) -> SpawnResult {
    let plan = match plan_from(options) {
      Ok(plan) => plan,
      Err(e) => {
        return SpawnResult {
          err: e.to_uv(),
          pid: 0,
          stdio: Vec::new(),
          polled: false,
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
        let resource = resource.map(|r| r.raw()).unwrap_or(std::ptr::null_mut());
        if let Some(watcher) = &self.watcher {
          if watcher.watch(pid, resource) {
            return SpawnResult {
              err: 0,
              pid,
              stdio,
              polled: true,
            };
          }
        }
        let on_exit = match self.reaper_callback(&env) {
          Ok(on_exit) => on_exit,
          Err(_) => {
            // No way to report this child's exit: do not leave it running unobserved. The reaper
            // still reaps it; the user sees EAGAIN as an 'error' event, as for a failed fork.
            let _ = reaper::send_signal(pid, libc::SIGKILL);
            reaper::watch(pid, Box::new(|_| {}));
            return SpawnResult {
              err: Errno(libc::EAGAIN).to_uv(),
              pid: 0,
              stdio,
              polled: false,
            };
          }
        };
        reaper::watch(
          pid,
          Box::new(move |exit| {
            // Closing means the env is gone (worker terminated): the child is reaped all the
            // same, there is just nobody left to tell.
            on_exit.call(exit, ThreadsafeFunctionCallMode::NonBlocking);
          }),
        );
        SpawnResult {
          err: 0,
          pid,
          stdio,
          polled: false,
        }
      }
      Err(e) => SpawnResult {
        err: e.to_uv(),
        pid: 0,
        stdio,
        polled: false,
      },
    }
  }

  /// `child.ref()`/`unref()` of a polled child. False if `pid` is not watched on the loop.
  #[napi]
  pub fn set_ref(&self, pid: i32, refed: bool) -> bool {
    self.watcher.as_ref().is_some_and(|w| w.set_ref(pid, refed))
  }

  /// Keeps the event loop alive until `unref()`. JS calls this while it has ref'd live children
  /// watched by the reaper thread.
  #[napi(js_name = "ref")]
  pub fn keep_alive(&self, env: Env) -> Result<()> {
    let Some(on_exit) = &self.on_exit else {
      return Ok(());
    };
    // SAFETY: called on the JS thread of the env that owns the tsfn, which is alive, and the tsfn
    // is not released while we hold it.
    check_status!(unsafe { napi::sys::napi_ref_threadsafe_function(env.raw(), on_exit.raw()) })
  }

  #[napi]
  pub fn unref(&self, env: Env) -> Result<()> {
    let Some(on_exit) = &self.on_exit else {
      return Ok(());
    };
    // SAFETY: as in keep_alive.
    check_status!(unsafe { napi::sys::napi_unref_threadsafe_function(env.raw(), on_exit.raw()) })
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

/// Signals our child `pid` and all of its descendants (see `tree::kill_tree`).
/// Returns 0 or a negative errno.
#[napi]
pub fn kill_tree(pid: i32, signal: i32) -> i32 {
  match crate::tree::kill_tree(pid, signal) {
    Ok(()) => 0,
    Err(e) => e.to_uv(),
  }
}
