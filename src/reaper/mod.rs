//! Exit watching: one process-wide thread, epoll over one pidfd per child.
//!
//! Node's own `child_process` keeps running in the same process and reaps its children from a
//! SIGCHLD handler with `waitpid(pid)` for each of *its* pids. So we must never call
//! `waitpid(-1)`, never install a SIGCHLD handler and never set SIGCHLD to SIG_IGN: we reap only
//! the pids we spawned, each when its pidfd turns readable.
//!
//! The thread starts with the first watched child and leaves after [`IDLE_MS`] without any, so
//! no thread is left behind once all children are gone. The same registry gives a race-free
//! kill: a signal goes through the pidfd, which can never name a recycled pid.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::errors::{cvt, cvt_retry, Errno, Result};

/// How long the reaper thread lingers without children before it exits.
const IDLE_MS: libc::c_int = 1000;

/// How a watched child ended.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
  pub pid: libc::pid_t,
  /// The exit status, when the child exited.
  pub code: Option<i32>,
  /// The terminating signal, when a signal killed it.
  pub signal: Option<i32>,
  /// Resource usage from `wait4`.
  pub rusage: libc::rusage,
}

pub type OnExit = Box<dyn FnOnce(Exit) + Send>;

struct Entry {
  pidfd: OwnedFd,
  on_exit: OnExit,
}

#[derive(Default)]
struct State {
  entries: HashMap<libc::pid_t, Entry>,
  /// Children whose pidfd someone else watches (the event loop, see `binding::exit_poll`),
  /// registered here so that [`send_signal`] still goes through their pidfd.
  external: HashMap<libc::pid_t, Arc<OwnedFd>>,
  /// Children watched by a blocking `waitpid` thread because no pidfd could be had.
  fallback: HashMap<libc::pid_t, ()>,
  thread_running: bool,
}

struct Reaper {
  epoll: OwnedFd,
  state: Mutex<State>,
}

fn reaper() -> Option<&'static Reaper> {
  static REAPER: OnceLock<Option<Reaper>> = OnceLock::new();
  REAPER
    .get_or_init(|| {
      // SAFETY: epoll_create1 returns a new fd or -1.
      let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }).ok()?;
      Some(Reaper {
        // SAFETY: fresh fd owned by the reaper for the life of the process.
        epoll: unsafe { OwnedFd::from_raw_fd(fd) },
        state: Mutex::new(State::default()),
      })
    })
    .as_ref()
}

impl Reaper {
  fn lock(&self) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave State half-updated in a way that matters more
    // than losing exits would, so recover from poisoning instead of propagating it.
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }
}

/// Starts watching `pid`, which must be our own unreaped child. `on_exit` runs on the reaper
/// thread exactly once, after the child has been reaped.
pub fn watch(pid: libc::pid_t, on_exit: OnExit) {
  let Some(r) = reaper() else {
    return watch_with_thread(pid, on_exit);
  };
  // Race-free: nobody else reaps our pid, so until we do, the zombie keeps the pid ours.
  let pidfd = match pidfd_open(pid) {
    Ok(fd) => fd,
    Err(_) => return watch_with_thread(pid, on_exit),
  };
  let mut st = r.lock();
  let mut ev = libc::epoll_event {
    events: libc::EPOLLIN as u32,
    u64: pid as u64,
  };
  // SAFETY: valid epoll fd, valid pidfd, ev on the stack.
  if cvt(unsafe {
    libc::epoll_ctl(
      r.epoll.as_raw_fd(),
      libc::EPOLL_CTL_ADD,
      pidfd.as_raw_fd(),
      &mut ev,
    )
  })
  .is_err()
  {
    drop(st);
    return watch_with_thread(pid, on_exit);
  }
  st.entries.insert(pid, Entry { pidfd, on_exit });
  if !st.thread_running {
    let spawned = std::thread::Builder::new()
      .name("cp-rs-reaper".into())
      .stack_size(64 * 1024)
      .spawn(move || reaper_loop(r));
    st.thread_running = spawned.is_ok();
  }
}

/// Registers the pidfd of a child that is watched elsewhere, for [`send_signal`].
pub fn register_external(pid: libc::pid_t, pidfd: Arc<OwnedFd>) {
  if let Some(r) = reaper() {
    r.lock().external.insert(pid, pidfd);
  }
}

/// Forgets a pid registered with [`register_external`] (before reaping it).
pub fn unregister_external(pid: libc::pid_t) {
  if let Some(r) = reaper() {
    r.lock().external.remove(&pid);
  }
}

/// `pidfd_open(pid)`: a CLOEXEC fd that names this very process, whatever happens to its pid.
pub fn pidfd_open(pid: libc::pid_t) -> Result<OwnedFd> {
  // SAFETY: raw syscall; returns a new fd or -1. (glibc 2.36 has a wrapper, the libc crate not.)
  let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
  if fd < 0 {
    return Err(Errno::last());
  }
  // SAFETY: fresh fd.
  Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// For kernels before 5.3 (no pidfd) or when we are out of fds: one thread blocked in
/// `waitpid(pid)` for this one child.
fn watch_with_thread(pid: libc::pid_t, on_exit: OnExit) {
  if let Some(r) = reaper() {
    r.lock().fallback.insert(pid, ());
  }
  let run = move || {
    let exit = wait_exit(pid, 0);
    if let Some(r) = reaper() {
      r.lock().fallback.remove(&pid);
    }
    deliver(on_exit, exit);
  };
  if let Err(e) = std::thread::Builder::new().stack_size(64 * 1024).spawn(run) {
    // Without a thread nothing would ever reap the child; say so rather than fail silently.
    eprintln!("child-process-rs: cannot start a waiter thread for pid {pid}: {e}");
  }
}

fn reaper_loop(r: &'static Reaper) {
  const MAX_EVENTS: usize = 64;
  let mut events = [libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];
  loop {
    // SAFETY: events is a valid buffer of MAX_EVENTS entries.
    let n = unsafe {
      libc::epoll_wait(
        r.epoll.as_raw_fd(),
        events.as_mut_ptr(),
        MAX_EVENTS as i32,
        IDLE_MS,
      )
    };
    if n < 0 {
      if Errno::last() == Errno(libc::EINTR) {
        continue;
      }
      // The epoll fd is ours and valid; this cannot happen short of memory corruption. Leave the
      // loop marked stopped so the next watch() starts a fresh thread.
      r.lock().thread_running = false;
      return;
    }
    if n == 0 {
      let mut st = r.lock();
      if st.entries.is_empty() {
        st.thread_running = false;
        return;
      }
      continue;
    }
    for ev in &events[..n as usize] {
      let pid = ev.u64 as libc::pid_t;
      // The pidfd is readable: the child has exited, so this does not block.
      let exit = wait_exit(pid, libc::WNOHANG);
      if exit.is_none() {
        continue;
      }
      let entry = r.lock().entries.remove(&pid);
      if let Some(Entry { pidfd, on_exit }) = entry {
        // Closing the pidfd also removes it from the epoll set.
        drop(pidfd);
        deliver(on_exit, exit);
      }
    }
  }
}

/// `wait4(pid)`. `None` means "not exited yet" (WNOHANG). If someone else reaped our child
/// (ECHILD), the status is lost: report it with neither code nor signal, as it cannot be known.
pub fn wait_exit(pid: libc::pid_t, flags: libc::c_int) -> Option<Exit> {
  let mut status = 0;
  // SAFETY: rusage is plain data.
  let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
  let r = cvt_retry(|| unsafe { libc::wait4(pid, &mut status, flags, &mut rusage) });
  let mut exit = Exit {
    pid,
    code: None,
    signal: None,
    rusage,
  };
  match r {
    Ok(0) => return None,
    Ok(_) => {
      if libc::WIFEXITED(status) {
        exit.code = Some(libc::WEXITSTATUS(status));
      } else if libc::WIFSIGNALED(status) {
        exit.signal = Some(libc::WTERMSIG(status));
      }
    }
    Err(_) => {}
  }
  Some(exit)
}

fn deliver(on_exit: OnExit, exit: Option<Exit>) {
  if let Some(exit) = exit {
    // A panicking callback must not take the reaper (and every other child's exit) with it.
    let _ = catch_unwind(AssertUnwindSafe(move || on_exit(exit)));
  }
}

/// Sends `sig` to our child `pid` through its pidfd. ESRCH once it has been reaped (or was never
/// ours), exactly like `kill(2)` on a dead process, but never hitting a recycled pid.
pub fn send_signal(pid: libc::pid_t, sig: i32) -> Result<()> {
  let Some(r) = reaper() else {
    return kill(pid, sig);
  };
  let st = r.lock();
  let pidfd = st
    .entries
    .get(&pid)
    .map(|e| e.pidfd.as_raw_fd())
    .or_else(|| st.external.get(&pid).map(|fd| fd.as_raw_fd()));
  if let Some(pidfd) = pidfd {
    // SAFETY: a valid pidfd (kept open by the lock we hold); NULL siginfo means "as kill(2) would".
    let rc = unsafe {
      libc::syscall(
        libc::SYS_pidfd_send_signal,
        pidfd,
        sig,
        std::ptr::null::<libc::siginfo_t>(),
        0,
      )
    };
    return if rc == 0 { Ok(()) } else { Err(Errno::last()) };
  }
  if st.fallback.contains_key(&pid) {
    return kill(pid, sig);
  }
  Err(Errno(libc::ESRCH))
}

fn kill(pid: libc::pid_t, sig: i32) -> Result<()> {
  // SAFETY: plain syscall.
  cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

#[cfg(test)]
mod tests;
