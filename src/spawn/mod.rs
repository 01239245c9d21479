//! Process creation without `fork()`.
//!
//! Node 20 (libuv 1.46) starts every child with `fork()`, which copies the parent's page tables:
//! a spawn from a 2 GiB heap costs ~40 ms. We use glibc's `posix_spawn`, which is a
//! `clone(CLONE_VM|CLONE_VFORK)` on a small stack, so the cost does not depend on the heap.
//!
//! The child is set up the way libuv's `uv__process_child_init` sets it up, in this order:
//! setsid if detached; dup2 every stdio slot (sources first moved above the slot range, so that
//! swapping stdout and stderr works); `/dev/null` for ignored 0–2; O_NONBLOCK cleared on 0–2;
//! chdir; setgroups/setgid/setuid; signals 1–31 reset to default; empty signal mask; exec.
//!
//! `posix_spawn` has no attribute for uid/gid or a parent-death signal. Those (rare) spawns take a
//! `fork()` path whose child runs only async-signal-safe libc calls on memory prepared before
//! the fork.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;

use crate::errors::{cvt, cvt_retry, Errno, Result};
use crate::stdio::{dup_above, set_nonblocking, socketpair};

/// What the child gets at one stdio slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioSpec {
  /// `/dev/null` at 0–2, nothing (closed) above.
  Ignore,
  /// A new socketpair. The parent keeps one end, non-blocking.
  Pipe,
  /// One of our own fds: `'inherit'`, an integer, or a stream that has an fd.
  Fd(RawFd),
}

/// Everything the child needs, as plain data. Strings are already C strings, so nothing has to be
/// allocated between the clone and the exec.
#[derive(Debug, Default)]
pub struct SpawnPlan {
  /// The program as the user named it; resolved on the child's `PATH` unless it has a `/`.
  pub file: CString,
  pub argv: Vec<CString>,
  /// `KEY=value` pairs: the child's whole environment.
  pub envp: Vec<CString>,
  pub cwd: Option<CString>,
  pub stdio: Vec<StdioSpec>,
  pub detached: bool,
  pub uid: Option<u32>,
  pub gid: Option<u32>,
  /// PR_SET_PDEATHSIG: the child gets this signal when the spawning thread's process dies.
  pub parent_death_signal: Option<i32>,
}

/// The result of [`spawn`]. `stdio` holds the parent's end of each `Pipe` slot. It is filled even
/// when the spawn failed after the pipes were made: Node hands the caller those (dead) streams
/// for ENOENT and friends too.
#[derive(Debug)]
pub struct SpawnOutcome {
  pub result: Result<libc::pid_t>,
  pub stdio: Vec<Option<OwnedFd>>,
}

/// What one child fd becomes, computed before the clone.
#[derive(Debug, Clone, Copy)]
enum Slot {
  Dup(RawFd),
  DevNull(libc::c_int),
  Close,
}

const DEV_NULL: &CStr = c"/dev/null";

pub fn spawn(plan: &SpawnPlan) -> SpawnOutcome {
  let mut stdio: Vec<Option<OwnedFd>> = Vec::with_capacity(plan.stdio.len());
  let result = prepare_and_spawn(plan, &mut stdio);
  SpawnOutcome { result, stdio }
}

fn prepare_and_spawn(
  plan: &SpawnPlan,
  parent_ends: &mut Vec<Option<OwnedFd>>,
) -> Result<libc::pid_t> {
  let count = plan.stdio.len() as RawFd;
  // Fds the child gets and that we close once it has them.
  let mut temporaries: Vec<OwnedFd> = Vec::new();
  let mut slots = Vec::with_capacity(plan.stdio.len());

  for (i, spec) in plan.stdio.iter().enumerate() {
    let i = i as RawFd;
    let source = match *spec {
      StdioSpec::Ignore => {
        parent_ends.push(None);
        slots.push(if i <= 2 {
          Slot::DevNull(if i == 0 { libc::O_RDONLY } else { libc::O_RDWR })
        } else {
          Slot::Close
        });
        continue;
      }
      StdioSpec::Pipe => {
        let (parent, child) = socketpair()?;
        set_nonblocking(parent.as_raw_fd(), true)?;
        parent_ends.push(Some(parent));
        let raw = child.as_raw_fd();
        temporaries.push(child);
        raw
      }
      StdioSpec::Fd(fd) => {
        parent_ends.push(None);
        fd
      }
    };
    if i <= 2 {
      set_nonblocking(source, false)?;
    }
    // A source that sits inside the slot range could be overwritten by an earlier dup2 (think
    // stdio: [0, 2, 1]). Move it above the range first, as libuv does with F_DUPFD.
    let source = if source < count {
      let high = dup_above(source, count)?;
      let raw = high.as_raw_fd();
      temporaries.push(high);
      raw
    } else {
      source
    };
    slots.push(Slot::Dup(source));
  }

  let program = resolve_program(&plan.file, &plan.envp, plan.cwd.as_deref())?;
  let envp = null_terminated(&plan.envp);
  let mut result = spawn_program(plan, &program, &plan.argv, &envp, &slots);
  if result == Err(Errno(libc::ENOEXEC)) {
    // Node's child runs glibc's execvp, which runs a file the kernel cannot execute (a script
    // without a `#!` line) with `/bin/sh file args...`. posix_spawn does not, so do it here.
    let mut sh_argv = Vec::with_capacity(plan.argv.len() + 1);
    sh_argv.push(BIN_SH.to_owned());
    sh_argv.push(program.clone());
    sh_argv.extend(plan.argv.iter().skip(1).cloned());
    result = spawn_program(plan, BIN_SH, &sh_argv, &envp, &slots);
  }
  drop(temporaries);
  result
}

const BIN_SH: &CStr = c"/bin/sh";

fn spawn_program(
  plan: &SpawnPlan,
  program: &CStr,
  argv: &[CString],
  envp: &[*mut libc::c_char],
  slots: &[Slot],
) -> Result<libc::pid_t> {
  let argv = null_terminated(argv);
  let child = Child {
    program,
    argv: &argv,
    envp,
    slots,
    plan,
  };
  if plan.uid.is_some() || plan.gid.is_some() || plan.parent_death_signal.is_some() {
    child.fork_exec()
  } else {
    child.posix_spawn()
  }
}

fn null_terminated(strings: &[CString]) -> Vec<*mut libc::c_char> {
  strings
    .iter()
    .map(|s| s.as_ptr() as *mut libc::c_char)
    .chain(std::iter::once(ptr::null_mut()))
    .collect()
}

/// Finds the program the way `execvp` would after the child's `chdir`: on the `PATH` of the
/// *child's* environment (`posix_spawnp` would search ours), remembering EACCES and reporting
/// ENOENT only when no candidate existed at all.
pub fn resolve_program(file: &CStr, envp: &[CString], cwd: Option<&CStr>) -> Result<CString> {
  let bytes = file.to_bytes();
  if bytes.is_empty() {
    return Err(Errno(libc::ENOENT));
  }
  if bytes.contains(&b'/') {
    return Ok(file.to_owned());
  }
  let path: &[u8] = envp
    .iter()
    .find_map(|kv| kv.to_bytes().strip_prefix(b"PATH="))
    .unwrap_or(b"/bin:/usr/bin");
  let mut saw_eacces = false;
  for dir in path.split(|&b| b == b':') {
    let mut candidate = Vec::with_capacity(dir.len() + 1 + bytes.len());
    if dir.is_empty() {
      candidate.extend_from_slice(bytes);
    } else {
      candidate.extend_from_slice(dir);
      candidate.push(b'/');
      candidate.extend_from_slice(bytes);
    }
    // A relative PATH entry is relative to the child's cwd, which the child enters before exec.
    let probe_path = match cwd {
      Some(cwd) if candidate.first() != Some(&b'/') => {
        let mut p = cwd.to_bytes().to_vec();
        p.push(b'/');
        p.extend_from_slice(&candidate);
        p
      }
      _ => candidate.clone(),
    };
    let Ok(probe) = CString::new(probe_path) else {
      continue;
    };
    match probe_executable(&probe) {
      Ok(()) => return CString::new(candidate).map_err(|_| Errno(libc::EINVAL)),
      Err(Errno(libc::EACCES)) => saw_eacces = true,
      Err(_) => {}
    }
  }
  Err(Errno(if saw_eacces {
    libc::EACCES
  } else {
    libc::ENOENT
  }))
}

/// Ok when `path` is a file we may execute; EACCES when it exists but cannot be; else its stat error.
fn probe_executable(path: &CStr) -> Result<()> {
  let meta = std::fs::metadata(Path::new(std::ffi::OsStr::from_bytes(path.to_bytes())))
    .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::ENOENT)))?;
  if !meta.is_file() {
    return Err(Errno(libc::EACCES));
  }
  // SAFETY: path is a valid C string.
  cvt(unsafe { libc::access(path.as_ptr(), libc::X_OK) }).map(drop)
}

/// The fully prepared child: only pointers into memory that outlives the spawn.
struct Child<'a> {
  program: &'a CStr,
  argv: &'a [*mut libc::c_char],
  envp: &'a [*mut libc::c_char],
  slots: &'a [Slot],
  plan: &'a SpawnPlan,
}

/// Signals 1..31 minus the two that cannot be caught: libuv resets exactly these, and leaves the
/// realtime signals (which glibc uses internally) alone.
fn resettable_signals() -> impl Iterator<Item = libc::c_int> {
  (1..32).filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP)
}

impl Child<'_> {
  fn posix_spawn(&self) -> Result<libc::pid_t> {
    let mut actions = FileActions::new()?;
    for (i, slot) in self.slots.iter().enumerate() {
      let i = i as RawFd;
      match *slot {
        Slot::Dup(src) => actions.dup2(src, i)?,
        Slot::DevNull(flags) => actions.open(i, DEV_NULL, flags)?,
        // glibc ignores EBADF for a close action on an fd that is not open.
        Slot::Close => actions.close(i)?,
      }
    }
    // Nothing beyond the stdio slots reaches the child, even an fd someone opened without CLOEXEC.
    actions.close_from(self.slots.len() as RawFd)?;
    if let Some(cwd) = &self.plan.cwd {
      actions.chdir(cwd)?;
    }

    let mut attr = SpawnAttr::new()?;
    let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
    if self.plan.detached {
      flags |= libc::POSIX_SPAWN_SETSID as libc::c_int;
    }
    attr.set_flags(flags)?;
    attr.set_defaults(resettable_signals())?;
    attr.set_empty_mask()?;

    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer refers to memory owned by `self`/`plan` that outlives the call;
    // argv and envp are NULL-terminated.
    let rc = unsafe {
      libc::posix_spawn(
        &mut pid,
        self.program.as_ptr(),
        &actions.0,
        &attr.0,
        self.argv.as_ptr(),
        self.envp.as_ptr(),
      )
    };
    if rc != 0 {
      return Err(Errno(rc));
    }
    Ok(pid)
  }

  /// The fork fallback for uid/gid/parent-death signal. The exec errno comes back through a
  /// CLOEXEC pipe: EOF means the exec succeeded.
  fn fork_exec(&self) -> Result<libc::pid_t> {
    let mut fds = [-1; 2];
    // SAFETY: fds is a valid array.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded; we own both ends.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let parent_pid = std::process::id() as libc::pid_t;

    // Block every signal around fork so that none of Node's handlers runs in the child before
    // it has reset the dispositions (libuv does the same).
    // SAFETY: plain sigset manipulation on local storage.
    let old_mask = unsafe {
      let mut all: libc::sigset_t = std::mem::zeroed();
      let mut old: libc::sigset_t = std::mem::zeroed();
      libc::sigfillset(&mut all);
      libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
      old
    };
    // SAFETY: fork in a multi-threaded process; the child only runs `exec_child`, which calls
    // async-signal-safe functions on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
      // SAFETY: see above; never returns.
      unsafe { self.exec_child(wr.as_raw_fd(), parent_pid) }
    }
    let fork_errno = Errno::last();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask, ptr::null_mut()) };
    drop(wr);
    if pid < 0 {
      return Err(fork_errno);
    }
    let mut errno_buf = [0u8; 4];
    let n = cvt_retry(|| unsafe {
      libc::read(rd.as_raw_fd(), errno_buf.as_mut_ptr().cast(), 4) as libc::c_int
    })?;
    if n == 0 {
      return Ok(pid);
    }
    // The child failed before exec and has _exit()ed: reap it here, no one else will.
    let mut status = 0;
    let _ = cvt_retry(|| unsafe { libc::waitpid(pid, &mut status, 0) });
    Err(Errno(i32::from_ne_bytes(errno_buf)))
  }

  /// Runs in the forked child. Only async-signal-safe calls, no allocation, no locks.
  unsafe fn exec_child(&self, err_fd: RawFd, parent_pid: libc::pid_t) -> ! {
    let fail = |err_fd: RawFd| -> ! {
      let e = *libc::__errno_location();
      let bytes = e.to_ne_bytes();
      libc::write(err_fd, bytes.as_ptr().cast(), 4);
      libc::_exit(127)
    };
    if let Some(sig) = self.plan.parent_death_signal {
      if libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) == -1 {
        fail(err_fd);
      }
      // The parent may have died between fork and prctl: then nobody would send the signal.
      if libc::getppid() != parent_pid {
        libc::_exit(127);
      }
    }
    if self.plan.detached && libc::setsid() == -1 {
      fail(err_fd);
    }
    for (i, slot) in self.slots.iter().enumerate() {
      let i = i as RawFd;
      match *slot {
        Slot::Dup(src) => {
          if libc::dup2(src, i) == -1 {
            fail(err_fd);
          }
        }
        Slot::DevNull(flags) => {
          let fd = libc::open(DEV_NULL.as_ptr(), flags);
          if fd == -1 {
            fail(err_fd);
          }
          if fd != i {
            if libc::dup2(fd, i) == -1 {
              fail(err_fd);
            }
            libc::close(fd);
          }
        }
        Slot::Close => {
          libc::close(i);
        }
      }
    }
    // Mark everything above the slots close-on-exec rather than closing it, so that the error
    // pipe stays usable until exec. Every fd we create is CLOEXEC already; this catches others'.
    libc::syscall(
      libc::SYS_close_range,
      self.slots.len() as libc::c_uint,
      libc::c_uint::MAX,
      libc::CLOSE_RANGE_CLOEXEC,
    );
    if let Some(cwd) = &self.plan.cwd {
      if libc::chdir(cwd.as_ptr()) == -1 {
        fail(err_fd);
      }
    }
    if self.plan.uid.is_some() || self.plan.gid.is_some() {
      // Drop supplementary groups when changing identity (fails harmlessly if not root).
      libc::setgroups(0, ptr::null());
    }
    if let Some(gid) = self.plan.gid {
      if libc::setgid(gid) == -1 {
        fail(err_fd);
      }
    }
    if let Some(uid) = self.plan.uid {
      if libc::setuid(uid) == -1 {
        fail(err_fd);
      }
    }
    for sig in 1..32 {
      if sig != libc::SIGKILL
        && sig != libc::SIGSTOP
        && libc::signal(sig, libc::SIG_DFL) == libc::SIG_ERR
      {
        fail(err_fd);
      }
    }
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    if libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut()) == -1 {
      fail(err_fd);
    }
    libc::execve(
      self.program.as_ptr(),
      self.argv.as_ptr() as _,
      self.envp.as_ptr() as _,
    );
    fail(err_fd)
  }
}

/// Owns a `posix_spawn_file_actions_t` (destroyed on drop, on every path).
struct FileActions(libc::posix_spawn_file_actions_t);

fn check(rc: libc::c_int) -> Result<()> {
  if rc == 0 {
    Ok(())
  } else {
    Err(Errno(rc))
  }
}

impl FileActions {
  fn new() -> Result<Self> {
    // SAFETY: init fully initialises the zeroed struct.
    let mut fa: libc::posix_spawn_file_actions_t = unsafe { std::mem::zeroed() };
    check(unsafe { libc::posix_spawn_file_actions_init(&mut fa) })?;
    Ok(FileActions(fa))
  }
  fn dup2(&mut self, from: RawFd, to: RawFd) -> Result<()> {
    check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut self.0, from, to) })
  }
  fn open(&mut self, fd: RawFd, path: &CStr, flags: libc::c_int) -> Result<()> {
    check(unsafe {
      libc::posix_spawn_file_actions_addopen(&mut self.0, fd, path.as_ptr(), flags, 0)
    })
  }
  fn close(&mut self, fd: RawFd) -> Result<()> {
    check(unsafe { libc::posix_spawn_file_actions_addclose(&mut self.0, fd) })
  }
  fn close_from(&mut self, fd: RawFd) -> Result<()> {
    check(unsafe { libc::posix_spawn_file_actions_addclosefrom_np(&mut self.0, fd) })
  }
  fn chdir(&mut self, dir: &CStr) -> Result<()> {
    check(unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut self.0, dir.as_ptr()) })
  }
}

impl Drop for FileActions {
  fn drop(&mut self) {
    // SAFETY: initialised in new().
    unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
  }
}

/// Owns a `posix_spawnattr_t`.
struct SpawnAttr(libc::posix_spawnattr_t);

impl SpawnAttr {
  fn new() -> Result<Self> {
    // SAFETY: init fully initialises the zeroed struct.
    let mut attr: libc::posix_spawnattr_t = unsafe { std::mem::zeroed() };
    check(unsafe { libc::posix_spawnattr_init(&mut attr) })?;
    Ok(SpawnAttr(attr))
  }
  fn set_flags(&mut self, flags: libc::c_int) -> Result<()> {
    check(unsafe { libc::posix_spawnattr_setflags(&mut self.0, flags as libc::c_short) })
  }
  fn set_defaults(&mut self, signals: impl Iterator<Item = libc::c_int>) -> Result<()> {
    // SAFETY: sigset built on the stack.
    unsafe {
      let mut set: libc::sigset_t = std::mem::zeroed();
      libc::sigemptyset(&mut set);
      for s in signals {
        libc::sigaddset(&mut set, s);
      }
      check(libc::posix_spawnattr_setsigdefault(&mut self.0, &set))
    }
  }
  fn set_empty_mask(&mut self) -> Result<()> {
    // SAFETY: sigset built on the stack.
    unsafe {
      let mut set: libc::sigset_t = std::mem::zeroed();
      libc::sigemptyset(&mut set);
      check(libc::posix_spawnattr_setsigmask(&mut self.0, &set))
    }
  }
}

impl Drop for SpawnAttr {
  fn drop(&mut self) {
    // SAFETY: initialised in new().
    unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
  }
}

#[cfg(test)]
mod tests;
