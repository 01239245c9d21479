//! Exit watching on the event loop itself: one libuv `uv_poll_t` per child, on its pidfd.
//!
//! The reaper thread (`crate::reaper`) wakes up on the exit, reaps, and then has to wake the JS
//! thread through a threadsafe function: two cross-thread wakeups per exit, and wakeups are the
//! expensive part of a spawn on a small VM (ANCHORS.md, "What gets you to the limit", point 2).
//! A pidfd turns readable when its process exits, so the loop can watch it like any socket: the
//! exit then costs one `epoll_wait` return on the JS thread, a `wait4` and the JS call. That is
//! also how Node's own process handles behave for liveness: a ref'd poll handle keeps the loop
//! alive, `uv_unref` lets it exit, which gives `child.ref()/unref()` for free.
//!
//! libuv's functions are exported by the `node` binary but are not part of N-API, so they are
//! looked up with `dlsym` at run time (this also keeps `cargo test` binaries linkable). If they
//! are missing (an embedder that hides them), or a pidfd cannot be had (kernel < 5.3, EMFILE),
//! the caller falls back to the reaper thread.
//!
//! Everything here runs on the JS thread of one env: the spawn, the poll callback, ref/unref and
//! the env cleanup hook. The state is therefore in `Rc`/`RefCell`, never touched by other threads.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::sys;

use crate::reaper::{self, Exit};

use super::uv::{self as libuv, UV_READABLE};

/// The per-env side: where exits are reported.
pub struct Watcher {
  env: sys::napi_env,
  uv_loop: *mut sys::uv_loop_s,
  /// The JS function `(pid, exitCode, signal, usage) => void`.
  callback: sys::napi_ref,
  children: RefCell<HashMap<libc::pid_t, *mut PollChild>>,
  /// Set by the env cleanup hook: the env is going away, nothing may call into JS any more.
  closed: Cell<bool>,
}

/// One watched child. Owns its uv_poll_t memory; freed in the handle's close callback.
struct PollChild {
  /// uv_poll_t storage (u64 for alignment). Its first field, `data`, points back to this struct.
  handle: Box<[u64]>,
  pid: libc::pid_t,
  /// Shared with the reaper's registry, which uses it for race-free kill().
  _pidfd: Arc<OwnedFd>,
  async_context: sys::napi_async_context,
  watcher: Rc<Watcher>,
}

impl PollChild {
  fn handle_ptr(&mut self) -> *mut c_void {
    self.handle.as_mut_ptr().cast()
  }
}

impl Watcher {
  /// `None` when libuv cannot be reached: use the reaper thread then.
  pub fn new(env: sys::napi_env, callback: sys::napi_value) -> Option<Rc<Watcher>> {
    libuv::get()?;
    let mut uv_loop = ptr::null_mut();
    let mut callback_ref = ptr::null_mut();
    // SAFETY: called on the env's JS thread with a live function value.
    unsafe {
      if sys::napi_get_uv_event_loop(env, &mut uv_loop) != sys::Status::napi_ok || uv_loop.is_null()
      {
        return None;
      }
      if sys::napi_create_reference(env, callback, 1, &mut callback_ref) != sys::Status::napi_ok {
        return None;
      }
    }
    let watcher = Rc::new(Watcher {
      env,
      uv_loop,
      callback: callback_ref,
      children: RefCell::new(HashMap::new()),
      closed: Cell::new(false),
    });
    // The hook owns one strong count until it runs (env teardown); see `on_env_cleanup`.
    let arg = Rc::into_raw(Rc::clone(&watcher)) as *mut c_void;
    // SAFETY: hook and arg stay valid until the hook runs.
    unsafe { sys::napi_add_env_cleanup_hook(env, Some(on_env_cleanup), arg) };
    Some(watcher)
  }

  /// Starts watching `pid` (our unreaped child, so its pid cannot be recycled before we reap it).
  /// `resource` becomes the async resource of its exit callback, as a ProcessWrap is in Node.
  /// Returns false when the child must be watched by the reaper thread instead.
  pub fn watch(self: &Rc<Self>, pid: libc::pid_t, resource: sys::napi_value) -> bool {
    let Some(uv) = libuv::get() else { return false };
    if self.closed.get() {
      return false;
    }
    let Ok(pidfd) = reaper::pidfd_open(pid) else {
      return false;
    };
    let pidfd = Arc::new(pidfd);
    let mut async_context = ptr::null_mut();
    // SAFETY: JS thread; a null context is accepted by napi_make_callback if this fails.
    unsafe {
      let mut name = ptr::null_mut();
      sys::napi_create_string_latin1(self.env, c"PROCESSWRAP".as_ptr(), 11, &mut name);
      if sys::napi_async_init(self.env, resource, name, &mut async_context) != sys::Status::napi_ok
      {
        async_context = ptr::null_mut();
      }
    }
    let words = uv.poll_layout.size().div_ceil(8);
    let child = Box::into_raw(Box::new(PollChild {
      handle: vec![0u64; words].into_boxed_slice(),
      pid,
      _pidfd: Arc::clone(&pidfd),
      async_context,
      watcher: Rc::clone(self),
    }));
    // SAFETY: `child` is a fresh allocation; the handle memory is uv_handle_size(UV_POLL) bytes.
    unsafe {
      let handle = (*child).handle_ptr();
      if (uv.poll_init)(self.uv_loop, handle, pidfd.as_raw_fd()) != 0 {
        drop_child(child);
        return false;
      }
      // uv_handle_t starts with `void* data`.
      *(handle as *mut *mut PollChild) = child;
      if (uv.poll_start)(handle, UV_READABLE, on_readable) != 0 {
        // Initialised handles must be closed, not just freed.
        (uv.close)(handle, Some(on_closed));
        return false;
      }
    }
    reaper::register_external(pid, pidfd);
    self.children.borrow_mut().insert(pid, child);
    true
  }

  /// `child.ref()` / `child.unref()`. False when `pid` is not (or no longer) watched here.
  pub fn set_ref(&self, pid: libc::pid_t, refed: bool) -> bool {
    let (Some(uv), Some(&child)) = (libuv::get(), self.children.borrow().get(&pid)) else {
      return false;
    };
    // SAFETY: children only holds live, not yet closed handles.
    unsafe {
      let handle = (*child).handle_ptr();
      if refed {
        (uv.uv_ref)(handle)
      } else {
        (uv.uv_unref)(handle)
      }
    }
    true
  }

  /// Reports one exit to JS, as Node's ProcessWrap::OnExit does: through MakeCallback, so that
  /// the nextTick queue and microtasks run after it and an exception thrown by a listener becomes
  /// an uncaught exception rather than being swallowed.
  unsafe fn deliver(&self, exit: Exit, async_context: sys::napi_async_context) {
    let env = self.env;
    let mut scope = ptr::null_mut();
    if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
      return;
    }
    let mut func = ptr::null_mut();
    let mut global = ptr::null_mut();
    sys::napi_get_reference_value(env, self.callback, &mut func);
    sys::napi_get_global(env, &mut global);
    let int_or_null = |v: Option<i32>| {
      let mut out = ptr::null_mut();
      match v {
        Some(v) => sys::napi_create_int32(env, v, &mut out),
        None => sys::napi_get_null(env, &mut out),
      };
      out
    };
    let mut pid = ptr::null_mut();
    sys::napi_create_int32(env, exit.pid, &mut pid);
    let usage = super::rusage_fields(&exit.rusage);
    let mut usage_arr = ptr::null_mut();
    sys::napi_create_array_with_length(env, usage.len(), &mut usage_arr);
    for (i, v) in usage.iter().enumerate() {
      let mut n = ptr::null_mut();
      sys::napi_create_double(env, *v, &mut n);
      sys::napi_set_element(env, usage_arr, i as u32, n);
    }
    let argv = [
      pid,
      int_or_null(exit.code),
      int_or_null(exit.signal),
      usage_arr,
    ];
    let mut result = ptr::null_mut();
    let status = sys::napi_make_callback(
      env,
      async_context,
      global,
      func,
      argv.len(),
      argv.as_ptr(),
      &mut result,
    );
    if status == sys::Status::napi_pending_exception {
      let mut exception = ptr::null_mut();
      sys::napi_get_and_clear_last_exception(env, &mut exception);
      sys::napi_fatal_exception(env, exception);
    }
    sys::napi_close_handle_scope(env, scope);
  }
}

/// Frees a PollChild whose handle was never initialised.
unsafe fn drop_child(child: *mut PollChild) {
  drop(Box::from_raw(child));
}

unsafe extern "C" fn on_closed(handle: *mut c_void) {
  let child = *(handle as *mut *mut PollChild);
  if !child.is_null() {
    drop(Box::from_raw(child));
  }
}

unsafe extern "C" fn on_readable(handle: *mut c_void, status: c_int, _events: c_int) {
  let Some(uv) = libuv::get() else { return };
  let child_ptr = *(handle as *mut *mut PollChild);
  let child = &mut *child_ptr;
  let pid = child.pid;
  // Readable means exited, so WNOHANG does not block. `None` would be a spurious wakeup.
  let exit = reaper::wait_exit(pid, libc::WNOHANG);
  if exit.is_none() && status == 0 {
    return;
  }
  let watcher = Rc::clone(&child.watcher);
  let async_context = child.async_context;
  watcher.children.borrow_mut().remove(&pid);
  reaper::unregister_external(pid);
  (uv.poll_stop)(handle);
  (uv.close)(handle, Some(on_closed));
  match exit {
    Some(exit) => {
      if !watcher.closed.get() {
        watcher.deliver(exit, async_context);
      }
    }
    // The poll itself failed (status < 0) before the child exited: let the reaper thread reap
    // it, so it never stays a zombie. Its exit is not reported (this has no known trigger).
    None => reaper::watch(pid, Box::new(|_| {})),
  }
  if !async_context.is_null() && !watcher.closed.get() {
    sys::napi_async_destroy(watcher.env, async_context);
  }
}

/// Env teardown (process exit, a worker ending, jest discarding a registry's env): close every
/// poll handle so the loop can close, and hand the still running children to the reaper thread,
/// which reaps them when they exit (with nobody left to tell).
unsafe extern "C" fn on_env_cleanup(arg: *mut c_void) {
  let watcher = Rc::from_raw(arg as *const Watcher);
  watcher.closed.set(true);
  let children: Vec<_> = watcher.children.borrow_mut().drain().collect();
  if let Some(uv) = libuv::get() {
    for (pid, child) in children {
      reaper::unregister_external(pid);
      let handle = (*child).handle_ptr();
      (uv.poll_stop)(handle);
      (uv.close)(handle, Some(on_closed));
      reaper::watch(pid, Box::new(|_| {}));
    }
  }
  sys::napi_delete_reference(watcher.env, watcher.callback);
}
