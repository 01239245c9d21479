//! The few libuv entry points that the event-loop watchers (`exit_poll`, `ipc`) need.
//!
//! libuv's functions are exported by the `node` binary but are not part of N-API, so they are
//! looked up with `dlsym` at run time, once per process, as napi-rs resolves `napi_*` (this also
//! keeps `cargo test` binaries linkable). `None` when they are missing (an embedder that hides
//! them): callers then fall back to the reaper thread.

use std::alloc::Layout;
use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

use napi::sys;

pub type PollCb = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
pub type CloseCb = unsafe extern "C" fn(handle: *mut c_void);

/// `uv_poll_event` bits.
pub const UV_READABLE: c_int = 1;
pub const UV_WRITABLE: c_int = 2;
pub const UV_DISCONNECT: c_int = 4;
/// `uv_handle_type` UV_POLL, stable since libuv 1.0.
const UV_POLL: c_int = 8;

pub struct Uv {
  /// Size and alignment of a `uv_poll_t`, which is allocated by us.
  pub poll_layout: Layout,
  pub poll_init: unsafe extern "C" fn(*mut sys::uv_loop_s, *mut c_void, c_int) -> c_int,
  pub poll_start: unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int,
  pub poll_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
  pub close: unsafe extern "C" fn(*mut c_void, Option<CloseCb>),
  pub uv_ref: unsafe extern "C" fn(*mut c_void),
  pub uv_unref: unsafe extern "C" fn(*mut c_void),
  pub has_ref: unsafe extern "C" fn(*const c_void) -> c_int,
}

pub fn get() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| {
    unsafe fn sym<T: Copy>(name: &CStr) -> Option<T> {
      // SAFETY: dlsym with RTLD_DEFAULT searches the process's global symbols (the node binary).
      let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
      if p.is_null() {
        return None;
      }
      debug_assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
      // SAFETY: T is the matching extern "C" fn pointer type (checked by the caller's types).
      Some(unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
    }
    // SAFETY: every type below is libuv's documented signature for that symbol.
    unsafe {
      let handle_size: unsafe extern "C" fn(c_int) -> usize = sym(c"uv_handle_size")?;
      Some(Uv {
        poll_layout: Layout::from_size_align(handle_size(UV_POLL), 16).ok()?,
        poll_init: sym(c"uv_poll_init")?,
        poll_start: sym(c"uv_poll_start")?,
        poll_stop: sym(c"uv_poll_stop")?,
        close: sym(c"uv_close")?,
        uv_ref: sym(c"uv_ref")?,
        uv_unref: sym(c"uv_unref")?,
        has_ref: sym(c"uv_has_ref")?,
      })
    }
  })
  .as_ref()
}
