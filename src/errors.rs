//! Errors of the native core are plain errno values.
//!
//! The core never builds a JS `Error`: JS receives the (negative, libuv-style) errno and builds
//! Node's exact `Error` object itself, because an `Error` created in native code fails
//! `instanceof Error` inside jest's per-file realms.

use std::io;

/// A positive `errno` value, as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
  /// The calling thread's current errno.
  pub fn last() -> Errno {
    Errno(
      io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO),
    )
  }

  /// libuv reports errors as negative errno values; so does Node's `err.errno`.
  pub fn to_uv(self) -> i32 {
    -self.0
  }
}

impl std::fmt::Display for Errno {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{}", io::Error::from_raw_os_error(self.0))
  }
}

impl std::error::Error for Errno {}

pub type Result<T> = std::result::Result<T, Errno>;

/// Turns a libc return value of -1 into `Err(errno)`.
pub fn cvt(rc: libc::c_int) -> Result<libc::c_int> {
  if rc == -1 {
    Err(Errno::last())
  } else {
    Ok(rc)
  }
}

/// Like [`cvt`], retrying while the call is interrupted by a signal.
pub fn cvt_retry(mut f: impl FnMut() -> libc::c_int) -> Result<libc::c_int> {
  loop {
    match cvt(f()) {
      Err(Errno(libc::EINTR)) => continue,
      other => return other,
    }
  }
}
