//! The napi edge of the IPC channel: `IpcChannel`, one per forked child, driven by a `uv_poll_t`
//! on the JS thread's own event loop.
//!
//! Why a uv_poll and not an IO thread with a threadsafe function: a message from the child then
//! costs one wakeup of the JS thread, exactly as in Node, where an IO thread costs two (the IO
//! thread, then the JS thread through the tsfn's `uv_async_t`). On this kind of VM a cross-thread
//! wakeup is the expensive part of a round trip (ipc-pingpong). It also keeps Node's ordering: the
//! channel's EOF, like Node's, is seen in the same poll phase as the child's last messages, before
//! the reaper's exit notification.
//!
//! Everything here runs on the JS thread. The poll callback reads what the socket has, hands all
//! complete frames to JS in one call (through `napi_make_callback`, so `process.nextTick` and
//! promise jobs run after it, as after any libuv callback), and flushes queued output when the
//! socket is writable. Writes from JS go straight to `sendmsg` when nothing is queued.
//!
//! JS and Rust share a `Float64Array` (`state`, indices below) so that the byte counters JS needs
//! after every `send()` cost no extra napi call.
//!
//! Busy-polling: when JS answered a message during the poll callback (a request/response
//! conversation), the callback polls the socket for up to 100 µs for the peer's reply before
//! returning to epoll. Measured on the 2-vCPU VM: ipc-pingpong goes from ~0.95x Node to ~3x,
//! because the thread never sleeps between a reply and the next request, and a sleeping vCPU's
//! wakeup is what a round trip mostly costs there. It is bounded: each miss doubles the number of
//! later answers that skip the spin (up to 64), so a peer that is slow to reply costs at most
//! 100 µs of CPU per 65 answers; there is no spin while output is queued (a stream), nor on a
//! single CPU. `CHILD_PROCESS_RS_IPC_SPIN_US` sets the budget (0 turns it off).

use std::alloc::{alloc_zeroed, dealloc};
use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr;
use std::rc::Rc;
use std::sync::OnceLock;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue};
use napi_derive::napi;

use super::uv::{self as libuv, Uv, UV_DISCONNECT, UV_READABLE, UV_WRITABLE};
use crate::errors::Errno;
use crate::ipc::{self, Channel, FrameError, Mode, ReadEnd};

// Shared-state slots (Float64Array).
/// Bytes of output settled: written to the socket, or dropped because the channel died.
const STATE_SETTLED: usize = 0;
/// Bytes of output accepted so far (the end offset of the last message).
const STATE_SUBMITTED: usize = 1;
/// Bytes of output waiting in our queue (Node's `writeQueueSize`).
const STATE_QUEUED: usize = 2;
/// 1 while part of an incoming frame has arrived and the rest has not (Node's `buffering`).
const STATE_BUFFERING: usize = 3;
const STATE_LEN: usize = 4;

// First argument of the JS event callback.
/// `(KIND_BATCH, frames, fds)`: `frames` is a string of newline-separated JSON texts or a Buffer
/// of length-prefixed V8 frames; `fds` is undefined or `[frameIndex, fd, ...]`, fds JS now owns.
const KIND_BATCH: i32 = 0;
/// `(KIND_WRITTEN)`: queued output made progress; see `STATE_SETTLED`.
const KIND_WRITTEN: i32 = 1;
/// `(KIND_END, errno)`: reading is over: 0 at EOF, else a negative errno. JS closes.
const KIND_END: i32 = 2;
/// `(KIND_PROTOCOL, size)`: the peer sent a frame over the size limit. JS closes.
const KIND_PROTOCOL: i32 = 3;

/// Consecutive failed spins double the number of answers after which we do not spin, up to this.
const MAX_SPIN_PENALTY: u32 = 64;

/// How long to busy-poll for the peer's reply after JS answered it: 100 µs, or
/// `CHILD_PROCESS_RS_IPC_SPIN_US`; none on a single CPU, where it would only delay the peer.
fn spin_budget() -> std::time::Duration {
  static BUDGET: OnceLock<std::time::Duration> = OnceLock::new();
  *BUDGET.get_or_init(|| {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let default = if cpus >= 2 { 100 } else { 0 };
    let us = std::env::var("CHILD_PROCESS_RS_IPC_SPIN_US")
      .ok()
      .and_then(|v| v.trim().parse().ok())
      .unwrap_or(default);
    std::time::Duration::from_micros(us)
  })
}

/// Bytes read per poll wakeup before the batch goes to JS and the loop gets a turn.
const READ_BUDGET: usize = 1 << 20;

/// Everything one channel needs, shared by the JS object and the poll handle (whose `data`
/// holds one strong reference until its close callback).
struct Inner {
  env: sys::napi_env,
  uv: &'static Uv,
  /// `None` once closed: the socket is closed with it.
  channel: RefCell<Option<Channel>>,
  /// The batch handed to JS; kept to reuse its allocation.
  batch: RefCell<Vec<u8>>,
  /// UTF-8 of a string being written; kept to reuse its allocation.
  scratch: RefCell<Vec<u8>>,
  /// The `uv_poll_t`, null once `uv_close` has been called on it.
  poll: Cell<*mut c_void>,
  /// The events the poll currently watches.
  events: Cell<c_int>,
  reading: Cell<bool>,
  /// `close()` was called (or the env is going away): no more events to JS.
  closing: Cell<bool>,
  /// The env is being torn down: napi calls are off limits.
  teardown: Cell<bool>,
  callback: Cell<sys::napi_ref>,
  state_ref: Cell<sys::napi_ref>,
  state: *mut f64,
  async_context: Cell<sys::napi_async_context>,
  /// Busy-poll bookkeeping: answers to let pass without spinning, and the current penalty.
  spin_skip: Cell<u32>,
  spin_penalty: Cell<u32>,
}

/// The parent's end of one IPC channel, as `lib/internal/ipc.js` sees it.
#[napi]
pub struct IpcChannel {
  inner: Rc<Inner>,
}

fn napi_err(what: &str) -> Error {
  Error::new(Status::GenericFailure, format!("IpcChannel: {what}"))
}

#[napi]
impl IpcChannel {
  /// Takes ownership of `fd` (the parent's non-blocking end of the socketpair), even on failure.
  /// `state` is a `Float64Array` of at least 4 slots; `onevent(kind, a, b)` receives the events.
  #[napi(constructor)]
  pub fn new(
    env: Env,
    fd: i32,
    advanced: bool,
    max_frame: f64,
    state: Unknown<'_>,
    onevent: Unknown<'_>,
  ) -> Result<Self> {
    if fd < 0 {
      return Err(napi_err("invalid fd"));
    }
    // SAFETY: JS hands over an fd it owns and will not use again.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let uv = libuv::get().ok_or_else(|| napi_err("libuv symbols not found in this process"))?;
    let raw_env = env.raw();
    let state_value = state.value().value;
    let mode = if advanced { Mode::Advanced } else { Mode::Json };
    let max_frame = if max_frame >= 1.0 && max_frame <= ipc::DEFAULT_MAX_FRAME as f64 {
      max_frame as usize
    } else {
      ipc::DEFAULT_MAX_FRAME
    };

    // SAFETY: plain napi calls on the JS thread with values JS just passed in.
    unsafe {
      let mut ty = 0;
      let mut len = 0;
      let mut data = ptr::null_mut();
      let mut ab = ptr::null_mut();
      let mut offset = 0;
      check_status!(sys::napi_get_typedarray_info(
        raw_env,
        state_value,
        &mut ty,
        &mut len,
        &mut data,
        &mut ab,
        &mut offset
      ))?;
      if ty != sys::TypedarrayType::float64_array || len < STATE_LEN {
        return Err(napi_err("state must be a Float64Array"));
      }
      let mut state_ref = ptr::null_mut();
      check_status!(sys::napi_create_reference(
        raw_env,
        state_value,
        1,
        &mut state_ref
      ))?;
      let mut callback = ptr::null_mut();
      check_status!(sys::napi_create_reference(
        raw_env,
        onevent.value().value,
        1,
        &mut callback
      ))?;
      let mut name = ptr::null_mut();
      check_status!(sys::napi_create_string_utf8(
        raw_env,
        c"IPCCHANNEL".as_ptr(),
        10,
        &mut name
      ))?;
      let mut async_context = ptr::null_mut();
      check_status!(sys::napi_async_init(
        raw_env,
        ptr::null_mut(),
        name,
        &mut async_context
      ))?;

      let inner = Rc::new(Inner {
        env: raw_env,
        uv,
        channel: RefCell::new(Some(Channel::new(sock, mode, max_frame))),
        batch: RefCell::new(Vec::new()),
        scratch: RefCell::new(Vec::new()),
        poll: Cell::new(ptr::null_mut()),
        events: Cell::new(0),
        reading: Cell::new(true),
        closing: Cell::new(false),
        teardown: Cell::new(false),
        callback: Cell::new(callback),
        state_ref: Cell::new(state_ref),
        state: data.cast(),
        async_context: Cell::new(async_context),
        spin_skip: Cell::new(0),
        spin_penalty: Cell::new(0),
      });

      let mut uv_loop = ptr::null_mut();
      check_status!(sys::napi_get_uv_event_loop(raw_env, &mut uv_loop))?;
      let poll = alloc_zeroed(uv.poll_layout).cast::<c_void>();
      if poll.is_null() {
        inner.release_napi();
        return Err(napi_err("out of memory"));
      }
      let rc = (uv.poll_init)(uv_loop, poll, fd);
      if rc != 0 {
        dealloc(poll.cast(), uv.poll_layout);
        inner.release_napi();
        return Err(napi_err("uv_poll_init failed"));
      }
      // The handle's `data` (its first field) owns one reference, released in on_close.
      *poll.cast::<*const Inner>() = Rc::into_raw(Rc::clone(&inner));
      inner.poll.set(poll);
      check_status!(sys::napi_add_env_cleanup_hook(
        raw_env,
        Some(on_env_teardown),
        Rc::as_ptr(&inner) as *mut c_void
      ))?;
      inner.update_state();
      inner.update_poll();
      Ok(IpcChannel { inner })
    }
  }

  /// Writes a string as UTF-8, with `send_fd` as SCM_RIGHTS on its first byte. Returns 0 or a
  /// negative errno (nothing was accepted then). `state` tells how much is still queued.
  #[napi]
  pub fn write_string(&self, env: Env, data: Unknown<'_>, send_fd: Option<i32>) -> Result<i32> {
    let mut scratch = self.inner.scratch.borrow_mut();
    // SAFETY: napi string access on the JS thread; the buffer is sized from the first call and
    // has room for the terminating NUL napi always writes.
    unsafe {
      let value = data.value().value;
      let mut len = 0;
      check_status!(sys::napi_get_value_string_utf8(
        env.raw(),
        value,
        ptr::null_mut(),
        0,
        &mut len
      ))?;
      scratch.clear();
      scratch.reserve(len + 1);
      let mut copied = 0;
      check_status!(sys::napi_get_value_string_utf8(
        env.raw(),
        value,
        scratch.as_mut_ptr().cast(),
        len + 1,
        &mut copied
      ))?;
      scratch.set_len(copied);
    }
    Ok(self.inner.write(&scratch, send_fd))
  }

  /// Like `writeString`, for bytes.
  #[napi]
  pub fn write_buffer(&self, data: &[u8], send_fd: Option<i32>) -> i32 {
    self.inner.write(data, send_fd)
  }

  /// Keeps the event loop alive while the channel is open (the default, as a libuv handle).
  #[napi(js_name = "ref")]
  pub fn keep_alive(&self) {
    let poll = self.inner.poll.get();
    if !poll.is_null() && !self.inner.closing.get() {
      // SAFETY: a live poll handle of this loop.
      unsafe { (self.inner.uv.uv_ref)(poll) };
    }
  }

  #[napi]
  pub fn unref(&self) {
    let poll = self.inner.poll.get();
    if !poll.is_null() && !self.inner.closing.get() {
      // SAFETY: as in keep_alive.
      unsafe { (self.inner.uv.uv_unref)(poll) };
    }
  }

  #[napi]
  pub fn has_ref(&self) -> bool {
    let poll = self.inner.poll.get();
    // SAFETY: as in keep_alive.
    !poll.is_null() && !self.inner.closing.get() && unsafe { (self.inner.uv.has_ref)(poll) } != 0
  }

  /// Stops reading and delivering. Output still queued is flushed first (without keeping the
  /// loop alive), then the socket is closed.
  #[napi]
  pub fn close(&self) {
    self.inner.close();
  }

  /// The socket, or UV_EINVAL once closing, as `uv_fileno` answers for a closing handle.
  #[napi(getter)]
  pub fn fd(&self) -> i32 {
    match &*self.inner.channel.borrow() {
      Some(ch) if !self.inner.closing.get() => ch.fd(),
      _ => Errno(libc::EINVAL).to_uv(),
    }
  }
}

/// libuv's guess of what a received fd is: `'TCP'`, `'UDP'`, `'PIPE'` or `'UNKNOWN'`.
#[napi]
pub fn guess_handle_type(fd: i32) -> &'static str {
  ipc::guess_handle_type(fd)
}

impl Inner {
  fn write(&self, data: &[u8], send_fd: Option<i32>) -> i32 {
    if self.closing.get() {
      return Errno(libc::EBADF).to_uv();
    }
    let result = match &mut *self.channel.borrow_mut() {
      Some(ch) => ch.write(data, send_fd),
      None => Err(Errno(libc::EBADF)),
    };
    self.update_state();
    self.update_poll();
    match result {
      Ok(()) => 0,
      Err(e) => e.to_uv(),
    }
  }

  fn update_state(&self) {
    let (settled, submitted, queued, buffering) = match &*self.channel.borrow() {
      Some(ch) => {
        let w = ch.writer();
        (w.settled(), w.submitted(), w.queued(), ch.buffering())
      }
      None => return,
    };
    // SAFETY: `state` points into the Float64Array we hold a reference to, of >= STATE_LEN.
    unsafe {
      *self.state.add(STATE_SETTLED) = settled as f64;
      *self.state.add(STATE_SUBMITTED) = submitted as f64;
      *self.state.add(STATE_QUEUED) = queued as f64;
      *self.state.add(STATE_BUFFERING) = buffering as u8 as f64;
    }
  }

  /// Watches for what we need: input while reading, writability while output is queued.
  fn update_poll(&self) {
    let poll = self.poll.get();
    if poll.is_null() {
      return;
    }
    let queued = match &*self.channel.borrow() {
      Some(ch) => ch.writer().queued() > 0,
      None => false,
    };
    let want = (if self.reading.get() {
      UV_READABLE | UV_DISCONNECT
    } else {
      0
    }) | (if queued { UV_WRITABLE } else { 0 });
    if want == self.events.get() {
      return;
    }
    self.events.set(want);
    // SAFETY: a live poll handle of this loop.
    unsafe {
      if want == 0 {
        (self.uv.poll_stop)(poll);
      } else {
        (self.uv.poll_start)(poll, want, on_poll);
      }
    }
  }

  fn on_poll(&self, status: c_int, events: c_int) {
    if status < 0 {
      // The poll itself failed (the fd went bad): nothing more can be read or written.
      if let Some(ch) = &mut *self.channel.borrow_mut() {
        ch.discard_output();
      }
      self.update_state();
      self.end(KIND_END, Errno(-status).to_uv() as f64);
      return;
    }
    if events & (UV_READABLE | UV_DISCONNECT) != 0 && self.reading.get() {
      let peer_closed = events & UV_DISCONNECT != 0;
      loop {
        let submitted = self.submitted();
        let end = match &mut *self.channel.borrow_mut() {
          Some(ch) => ch.read(READ_BUDGET, peer_closed),
          None => return,
        };
        self.update_state();
        self.deliver_batch();
        if self.closing.get() {
          return;
        }
        if let Some(end) = end {
          let (kind, arg) = match end {
            ReadEnd::Eof => (KIND_END, 0.0),
            ReadEnd::Error(e) => (KIND_END, e.to_uv() as f64),
            ReadEnd::Protocol(FrameError::TooLarge(size)) => (KIND_PROTOCOL, size as f64),
          };
          self.end(kind, arg);
          return;
        }
        if self.submitted() == submitted || !self.spin_for_input() {
          break;
        }
      }
    }
    if events & UV_WRITABLE != 0 {
      self.flush();
    }
    self.update_poll();
  }

  fn submitted(&self) -> u64 {
    match &*self.channel.borrow() {
      Some(ch) => ch.writer().submitted(),
      None => 0,
    }
  }

  /// After JS answered a message, waits a little for the peer's reply by polling instead of going
  /// back to sleep in epoll (see "Busy-polling" in the module docs). Returns whether input arrived.
  fn spin_for_input(&self) -> bool {
    let budget = spin_budget();
    if budget.is_zero() {
      return false;
    }
    let fd = match &*self.channel.borrow() {
      // Output is backed up: this is a stream, not a conversation.
      Some(ch) if ch.writer().queued() == 0 => ch.fd(),
      _ => return false,
    };
    let skip = self.spin_skip.get();
    if skip > 0 {
      self.spin_skip.set(skip - 1);
      return false;
    }
    let start = std::time::Instant::now();
    loop {
      let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
      };
      // SAFETY: poll on our own fd with a zero timeout.
      if unsafe { libc::poll(&mut p, 1, 0) } != 0 {
        self.spin_penalty.set(0);
        return true;
      }
      if start.elapsed() >= budget {
        // The peer is slower than the budget: spin less for a while, so a peer that takes long
        // to answer costs us little CPU.
        let penalty = (self.spin_penalty.get() * 2 + 1).min(MAX_SPIN_PENALTY);
        self.spin_penalty.set(penalty);
        self.spin_skip.set(penalty);
        return false;
      }
      std::hint::spin_loop();
    }
  }

  /// Reading is over: tell JS, which closes the channel.
  fn end(&self, kind: i32, arg: f64) {
    self.reading.set(false);
    self.update_poll();
    if !self.closing.get() {
      self.call_js(|env, argv| unsafe {
        sys::napi_create_int32(env, kind, &mut argv[0]);
        sys::napi_create_double(env, arg, &mut argv[1]);
        2
      });
    }
  }

  fn flush(&self) {
    let progress = match &mut *self.channel.borrow_mut() {
      Some(ch) => match ch.flush() {
        Ok(n) => n > 0,
        Err(_) => {
          // The peer cannot take the rest (it died or shut down). Node completes such writes
          // as if they succeeded; the end of the channel shows up on the reading side.
          ch.discard_output();
          true
        }
      },
      None => false,
    };
    self.update_state();
    if self.closing.get() {
      let drained = match &*self.channel.borrow() {
        Some(ch) => ch.writer().queued() == 0,
        None => true,
      };
      if drained {
        self.finish_close();
      }
      return;
    }
    if progress {
      self.call_js(|env, argv| unsafe {
        sys::napi_create_int32(env, KIND_WRITTEN, &mut argv[0]);
        1
      });
    }
  }

  fn deliver_batch(&self) {
    let mut batch = self.batch.borrow_mut();
    let info = match &mut *self.channel.borrow_mut() {
      Some(ch) => ch.take_batch(&mut batch),
      None => None,
    };
    let Some(info) = info else {
      return;
    };
    let json = matches!(
      self.channel.borrow().as_ref().map(Channel::mode),
      Some(Mode::Json)
    );
    let data: &[u8] = &batch;
    // Fds now belong to JS: it builds handles from them or closes them.
    let fds: Vec<i32> = info
      .fds
      .into_iter()
      .flat_map(|(index, fd)| {
        use std::os::fd::IntoRawFd;
        [index as i32, fd.into_raw_fd()]
      })
      .collect();
    let len = data.len();
    let mut too_long = false;
    self.call_js(|env, argv| unsafe {
      sys::napi_create_int32(env, KIND_BATCH, &mut argv[0]);
      let status = if json {
        // Without the final newline, so that JS can split() without an empty last element.
        sys::napi_create_string_utf8(
          env,
          data.as_ptr().cast(),
          (data.len() - 1) as isize,
          &mut argv[1],
        )
      } else {
        sys::napi_create_buffer_copy(
          env,
          data.len(),
          data.as_ptr().cast(),
          ptr::null_mut(),
          &mut argv[1],
        )
      };
      if status != sys::Status::napi_ok {
        // Longer than V8's longest string, or out of memory.
        let mut ignored = ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut ignored);
        too_long = true;
        for pair in fds.chunks(2) {
          libc::close(pair[1]);
        }
        return 0;
      }
      if fds.is_empty() {
        sys::napi_get_undefined(env, &mut argv[2]);
      } else {
        sys::napi_create_array_with_length(env, fds.len(), &mut argv[2]);
        for (i, v) in fds.iter().enumerate() {
          let mut n = ptr::null_mut();
          sys::napi_create_int32(env, *v, &mut n);
          sys::napi_set_element(env, argv[2], i as u32, n);
        }
      }
      3
    });
    drop(batch);
    if too_long && !self.closing.get() {
      self.end(KIND_PROTOCOL, len as f64);
    }
  }

  /// Calls the JS event callback with the arguments `args` fills in (returning their count, 0 to
  /// skip the call), as libuv callbacks call into JS in Node: in a callback scope, so that the
  /// nextTick queue and microtasks run afterwards, and with a throw reported as uncaught.
  fn call_js(&self, args: impl FnOnce(sys::napi_env, &mut [sys::napi_value; 3]) -> usize) {
    if self.teardown.get() {
      return;
    }
    let env = self.env;
    // SAFETY: napi calls on the JS thread, inside a handle scope we open and close here.
    unsafe {
      let mut scope = ptr::null_mut();
      if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
        return;
      }
      let mut argv = [ptr::null_mut(); 3];
      let argc = args(env, &mut argv);
      let mut func = ptr::null_mut();
      let mut recv = ptr::null_mut();
      if argc > 0
        && sys::napi_get_reference_value(env, self.callback.get(), &mut func)
          == sys::Status::napi_ok
        && !func.is_null()
        && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok
      {
        let mut result = ptr::null_mut();
        let status = sys::napi_make_callback(
          env,
          self.async_context.get(),
          recv,
          func,
          argc,
          argv.as_ptr(),
          &mut result,
        );
        if status == sys::Status::napi_pending_exception {
          let mut err = ptr::null_mut();
          sys::napi_get_and_clear_last_exception(env, &mut err);
          sys::napi_fatal_exception(env, err);
        }
      }
      sys::napi_close_handle_scope(env, scope);
    }
  }

  fn close(&self) {
    if self.closing.get() {
      return;
    }
    self.closing.set(true);
    self.reading.set(false);
    let queued = match &mut *self.channel.borrow_mut() {
      Some(ch) => {
        ch.clear_input();
        ch.writer().queued() > 0
      }
      None => false,
    };
    if queued && !self.teardown.get() {
      // Let the child have what it was sent, but do not keep the process alive for it.
      let poll = self.poll.get();
      if !poll.is_null() {
        // SAFETY: a live poll handle of this loop.
        unsafe { (self.uv.uv_unref)(poll) };
      }
      self.update_poll();
    } else {
      self.finish_close();
    }
  }

  /// Closes the poll handle (freed in its close callback) and the socket, and lets go of the JS
  /// values we held.
  fn finish_close(&self) {
    self.closing.set(true);
    self.reading.set(false);
    let poll = self.poll.replace(ptr::null_mut());
    if !poll.is_null() {
      // SAFETY: a live poll handle; after uv_close libuv calls on_close exactly once.
      unsafe {
        (self.uv.poll_stop)(poll);
        (self.uv.close)(poll, Some(on_close));
      }
    }
    self.channel.borrow_mut().take();
    if !self.teardown.get() {
      // SAFETY: napi calls on the JS thread while the env is alive.
      unsafe {
        sys::napi_remove_env_cleanup_hook(
          self.env,
          Some(on_env_teardown),
          self as *const Inner as *mut c_void,
        );
      }
      self.release_napi();
    }
  }

  fn release_napi(&self) {
    // SAFETY: each napi handle is released once and then forgotten.
    unsafe {
      let r = self.callback.replace(ptr::null_mut());
      if !r.is_null() {
        sys::napi_delete_reference(self.env, r);
      }
      let r = self.state_ref.replace(ptr::null_mut());
      if !r.is_null() {
        sys::napi_delete_reference(self.env, r);
      }
      let c = self.async_context.replace(ptr::null_mut());
      if !c.is_null() {
        sys::napi_async_destroy(self.env, c);
      }
    }
  }
}

unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
  // SAFETY: `data` holds the strong reference installed in the constructor; take one more for
  // the duration of the callback, since JS may close the channel (and the handle) meanwhile.
  let inner = unsafe {
    let raw = *handle.cast::<*const Inner>();
    Rc::increment_strong_count(raw);
    Rc::from_raw(raw)
  };
  // A panic must not unwind into libuv.
  let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    inner.on_poll(status, events)
  }));
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  // SAFETY: the reference installed in the constructor, released exactly once, here; libuv does
  // not touch the handle after this callback, so its memory can go.
  unsafe {
    let raw = *handle.cast::<*const Inner>();
    let inner = Rc::from_raw(raw);
    let layout = inner.uv.poll_layout;
    drop(inner);
    dealloc(handle.cast(), layout);
  }
}

unsafe extern "C" fn on_env_teardown(arg: *mut c_void) {
  // SAFETY: registered with a pointer to an Inner that the poll handle keeps alive until the hook
  // is removed (in finish_close, before the handle is closed).
  let inner = unsafe { &*(arg as *const Inner) };
  inner.teardown.set(true);
  let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.finish_close()));
}
