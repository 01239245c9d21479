//! File descriptors for a child's stdio: socketpairs (as libuv makes them) and small fd helpers.
//!
//! Every fd created here is CLOEXEC from birth (`SOCK_CLOEXEC`, `F_DUPFD_CLOEXEC`), so a spawn
//! running on another thread can never inherit it by accident.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::errors::{cvt, Result};

/// `socketpair(AF_UNIX, SOCK_STREAM)`, both ends CLOEXEC and blocking.
///
/// Node uses a socketpair rather than `pipe(2)` for `'pipe'` and `'ipc'` slots: it has a larger
/// buffer, allows `sendmsg` with SCM_RIGHTS for IPC, and a child cannot `open("/dev/stdin")` on it.
pub fn socketpair() -> Result<(OwnedFd, OwnedFd)> {
  let mut fds = [-1; 2];
  // SAFETY: fds is a valid 2-element array.
  cvt(unsafe {
    libc::socketpair(
      libc::AF_UNIX,
      libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
      0,
      fds.as_mut_ptr(),
    )
  })?;
  // SAFETY: socketpair succeeded, so both fds are open and owned by nobody else.
  Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets or clears O_NONBLOCK on `fd`.
///
/// O_NONBLOCK lives on the open file description, which a child shares with its parent: clearing
/// it for an inherited fd clears it for the parent as well. libuv does exactly that for 0–2 (in the
/// child), so doing it from the parent before the spawn has the same observable effect.
pub fn set_nonblocking(fd: RawFd, on: bool) -> Result<()> {
  // SAFETY: fcntl on a caller-provided fd; errors are reported, not assumed away.
  let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
  let new = if on {
    flags | libc::O_NONBLOCK
  } else {
    flags & !libc::O_NONBLOCK
  };
  if new != flags {
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, new) })?;
  }
  Ok(())
}

/// Duplicates `fd` to the lowest free fd number >= `min`, CLOEXEC.
pub fn dup_above(fd: RawFd, min: RawFd) -> Result<OwnedFd> {
  // SAFETY: F_DUPFD_CLOEXEC returns a new fd that we own.
  let new = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })?;
  // SAFETY: new is a fresh fd.
  Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Number of open fds of this process (for leak tests).
#[cfg(test)]
pub fn count_open_fds() -> usize {
  std::fs::read_dir("/proc/self/fd")
    .map(|d| d.count().saturating_sub(1))
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::fd::AsRawFd;

  fn raw(fd: &OwnedFd) -> RawFd {
    fd.as_raw_fd()
  }

  #[test]
  fn socketpair_is_cloexec_and_blocking() {
    let (a, b) = socketpair().unwrap();
    for fd in [raw(&a), raw(&b)] {
      let fdflags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
      assert_ne!(fdflags & libc::FD_CLOEXEC, 0);
      let flflags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
      assert_eq!(flflags & libc::O_NONBLOCK, 0);
    }
  }

  #[test]
  fn nonblocking_toggles() {
    let (a, _b) = socketpair().unwrap();
    set_nonblocking(raw(&a), true).unwrap();
    assert_ne!(
      unsafe { libc::fcntl(raw(&a), libc::F_GETFL) } & libc::O_NONBLOCK,
      0
    );
    set_nonblocking(raw(&a), false).unwrap();
    assert_eq!(
      unsafe { libc::fcntl(raw(&a), libc::F_GETFL) } & libc::O_NONBLOCK,
      0
    );
  }

  #[test]
  fn dup_above_respects_minimum() {
    let (a, _b) = socketpair().unwrap();
    let d = dup_above(raw(&a), 100).unwrap();
    assert!(raw(&d) >= 100);
  }
}
