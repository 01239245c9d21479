//! `spawnSync`: spawn, then one `poll(2)` loop that feeds the child's input, collects every output
//! pipe, enforces the timeout and the output limit and notices the exit; then reap that one pid.
//!
//! The rules are those of Node's `SyncProcessRunner` (src/spawn_sync.cc), which users observe:
//! * the run ends when the child has exited *and* every pipe is done (EOF on outputs, input
//!   written and shut down), so a grandchild holding a pipe keeps the call waiting;
//! * `timeout` → error ETIMEDOUT and [`Runner::kill`]; output over `max_buffer`, counted over *all*
//!   output pipes together → error ENOBUFS and the same kill;
//! * the kill happens once: `kill_signal` if the child has not exited (SIGKILL as well if that
//!   fails for any reason but ESRCH), then every pipe is closed and the timer stopped;
//! * the first error wins, and an error of the loop itself (timeout, ENOBUFS, a failed kill) wins
//!   over an error of a pipe (EPIPE when the child does not read its input).
//!
//! The exit is watched through a pidfd in the same poll set, so no SIGCHLD handler and no
//! `waitpid(-1)` is involved, and the async reaper never hears of this child: it is reaped here
//! with `waitpid(pid)`, the one pid we spawned, which stays ours until we reap it.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::errors::{cvt_retry, Errno};
use crate::reaper::pidfd_open;
use crate::spawn::{self, SpawnPlan};

/// Node reads into 64 KiB buffers; we keep at least this much room free before each read.
const READ_CHUNK: usize = 64 * 1024;
/// libuv reads a readable stream at most this many times per wakeup, so that one busy pipe cannot
/// starve the others (and the timer).
const READS_PER_WAKEUP: usize = 32;
/// Without a pidfd (Linux < 5.3, or out of fds) the exit can only be polled with
/// `waitpid(WNOHANG)`: at growing intervals up to this one.
const MAX_EXIT_POLL_MS: i64 = 50;

/// How one run is limited, and what the child reads.
#[derive(Debug)]
pub struct SyncOptions<'a> {
  /// The `Pipe` slots the child reads, with the bytes to write into each (possibly none: the
  /// child then just sees EOF). Every other `Pipe` slot is an output the loop collects.
  pub inputs: Vec<(usize, &'a [u8])>,
  /// None or zero: no limit.
  pub timeout: Option<Duration>,
  /// Sent on timeout or overflow. Node's default is SIGTERM.
  pub kill_signal: i32,
  /// Total bytes over all output pipes beyond which the child is killed; None: no limit.
  pub max_buffer: Option<u64>,
}

impl Default for SyncOptions<'_> {
  /// No input, no limits, SIGTERM as the kill signal (Node's defaults).
  fn default() -> Self {
    SyncOptions {
      inputs: Vec::new(),
      timeout: None,
      kill_signal: libc::SIGTERM,
      max_buffer: None,
    }
  }
}

/// What Node's `spawn_sync.spawn()` returns, as plain data.
#[derive(Debug, Default)]
pub struct SyncOutcome {
  /// 0 when the child never started.
  pub pid: libc::pid_t,
  /// The exit status, when the child exited by itself.
  pub status: Option<i32>,
  /// The terminating signal, when a signal ended it.
  pub signal: Option<i32>,
  /// One entry per stdio slot: the bytes of an output pipe, None for every other slot. None as a
  /// whole when the child never started.
  pub output: Option<Vec<Option<Vec<u8>>>>,
  pub error: Option<Errno>,
}

/// Runs `plan` to completion. Never panics on OS errors: they end up in `error`.
pub fn spawn_sync(plan: &SpawnPlan, options: &SyncOptions<'_>) -> SyncOutcome {
  run(plan, options, true)
}

/// `use_pidfd` false takes the path for kernels without pidfds (tests force it).
fn run(plan: &SpawnPlan, options: &SyncOptions<'_>, use_pidfd: bool) -> SyncOutcome {
  // Node starts the timer before spawning, so the spawn itself counts against the timeout.
  let deadline = options
    .timeout
    .filter(|t| !t.is_zero())
    .and_then(|t| Instant::now().checked_add(t));
  let spawned = spawn::spawn(plan);
  let pid = match spawned.result {
    Ok(pid) => pid,
    // The parent ends in `spawned.stdio` close as it drops.
    Err(e) => {
      return SyncOutcome {
        error: Some(e),
        ..SyncOutcome::default()
      }
    }
  };
  let slots = plan.stdio.len();
  let pipes = spawned
    .stdio
    .into_iter()
    .enumerate()
    .filter_map(|(slot, fd)| {
      let fd = fd?;
      let io = match options.inputs.iter().find(|(s, _)| *s == slot) {
        Some(&(_, data)) => Io::Input {
          rest: data,
          shut: false,
        },
        None => Io::Output {
          data: Vec::new(),
          eof: false,
        },
      };
      Some(Pipe {
        slot,
        fd: Some(fd),
        io,
      })
    })
    .collect();
  let mut runner = Runner {
    child: Child::new(pid, use_pidfd),
    pipes,
    kill_signal: options.kill_signal,
    max_buffer: options.max_buffer,
    buffered: 0,
    killed: false,
    deadline,
    error: None,
    pipe_error: None,
  };
  runner.run();
  runner.finish(slots)
}

/// Our spawned, not yet reaped child. Dropping it before it was reaped (only on a panic) kills
/// and reaps it, so that no zombie is left behind.
struct Child {
  pid: libc::pid_t,
  /// Readable once the child has exited. None: no pidfd could be had (see MAX_EXIT_POLL_MS).
  pidfd: Option<OwnedFd>,
  /// (status, signal) once reaped. After that the pid may belong to someone else: never signal it.
  exit: Option<(Option<i32>, Option<i32>)>,
}

impl Child {
  fn new(pid: libc::pid_t, use_pidfd: bool) -> Child {
    Child {
      pid,
      // Race-free: nobody else reaps our pid, so until we do, the zombie keeps the pid ours.
      pidfd: use_pidfd.then(|| pidfd_open(pid).ok()).flatten(),
      exit: None,
    }
  }

  /// `waitpid(pid)`; with `block` false only collects an exit that already happened.
  fn reap(&mut self, block: bool) {
    if self.exit.is_some() {
      return;
    }
    let mut status = 0;
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: waitpid on our own child; status is a valid out pointer.
    match cvt_retry(|| unsafe { libc::waitpid(self.pid, &mut status, flags) }) {
      Ok(0) => {}
      Ok(_) if libc::WIFSIGNALED(status) => self.exit = Some((None, Some(libc::WTERMSIG(status)))),
      Ok(_) => self.exit = Some((Some(libc::WEXITSTATUS(status)), None)),
      // ECHILD: someone else reaped our child (SIGCHLD set to SIG_IGN by the embedder). The
      // status is lost; report neither code nor signal rather than wait forever.
      Err(_) => self.exit = Some((None, None)),
    }
    if self.exit.is_some() {
      self.pidfd = None;
    }
  }

  fn signal(&self, sig: i32) -> Result<(), Errno> {
    if self.exit.is_some() {
      return Err(Errno(libc::ESRCH));
    }
    // SAFETY: plain syscall on our unreaped child (so the pid cannot have been recycled).
    cvt_retry(|| unsafe { libc::kill(self.pid, sig) }).map(drop)
  }
}

impl Drop for Child {
  fn drop(&mut self) {
    if self.exit.is_none() {
      let _ = self.signal(libc::SIGKILL);
      self.reap(true);
    }
  }
}

struct Pipe<'a> {
  slot: usize,
  /// None once closed by the kill.
  fd: Option<OwnedFd>,
  io: Io<'a>,
}

enum Io<'a> {
  /// The child reads: `rest` is still to be written, then our side is shut down. (The fd stays
  /// open until the end, as in Node, which keeps the handle until it closes all of them.)
  Input { rest: &'a [u8], shut: bool },
  /// The child writes: everything read so far, until EOF.
  Output { data: Vec<u8>, eof: bool },
}

enum Read {
  Data(usize),
  Eof,
  WouldBlock,
  Failed(Errno),
}

impl Pipe<'_> {
  /// Whether the loop still waits for this pipe.
  fn active(&self) -> bool {
    self.fd.is_some()
      && match self.io {
        Io::Input { shut, .. } => !shut,
        Io::Output { eof, .. } => !eof,
      }
  }

  fn raw(&self) -> RawFd {
    self.fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
  }

  /// Writes as much input as the socket takes, then shuts our side down. Err: the pipe is done
  /// and this is its error (EPIPE when the child closed its end first).
  fn write_input(&mut self) -> Result<(), Errno> {
    let fd = self.raw();
    let Io::Input { rest, shut } = &mut self.io else {
      return Ok(());
    };
    while !rest.is_empty() {
      // MSG_NOSIGNAL: a child that closed its stdin gives us EPIPE, not a SIGPIPE (Node ignores
      // SIGPIPE process-wide; an embedder or a test harness may not).
      // SAFETY: rest is a valid slice; fd is our non-blocking socket.
      let n = unsafe {
        libc::send(
          fd,
          rest.as_ptr().cast(),
          rest.len(),
          libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        )
      };
      if n >= 0 {
        *rest = &rest[n as usize..];
        continue;
      }
      match Errno::last() {
        Errno(libc::EINTR) => continue,
        Errno(libc::EAGAIN) => return Ok(()),
        e => {
          *shut = true;
          return Err(e);
        }
      }
    }
    *shut = true;
    // SAFETY: plain syscall on our socket.
    match cvt_retry(|| unsafe { libc::shutdown(fd, libc::SHUT_WR) }) {
      // A peer that is already gone is not an error (Node says so for the BSDs).
      Ok(_) | Err(Errno(libc::ENOTCONN)) => Ok(()),
      Err(e) => Err(e),
    }
  }

  fn read_chunk(&mut self) -> Read {
    let fd = self.raw();
    let Io::Output { data, eof } = &mut self.io else {
      return Read::WouldBlock;
    };
    if data.capacity() - data.len() < READ_CHUNK {
      data.reserve(READ_CHUNK);
    }
    let spare = data.spare_capacity_mut();
    // SAFETY: reads into the Vec's spare capacity, which is valid for spare.len() bytes.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
    if n > 0 {
      // SAFETY: the kernel initialised n bytes of the spare capacity.
      unsafe { data.set_len(data.len() + n as usize) };
      return Read::Data(n as usize);
    }
    if n == 0 {
      *eof = true;
      return Read::Eof;
    }
    match Errno::last() {
      Errno(libc::EINTR) | Errno(libc::EAGAIN) => Read::WouldBlock,
      e => {
        // libuv stops reading a stream after an error.
        *eof = true;
        Read::Failed(e)
      }
    }
  }
}

struct Runner<'a> {
  child: Child,
  pipes: Vec<Pipe<'a>>,
  kill_signal: i32,
  max_buffer: Option<u64>,
  buffered: u64,
  killed: bool,
  /// When the timeout fires; None when there is none or it has been stopped by the kill.
  deadline: Option<Instant>,
  error: Option<Errno>,
  pipe_error: Option<Errno>,
}

impl Runner<'_> {
  fn set_error(&mut self, e: Errno) {
    self.error.get_or_insert(e);
  }

  fn set_pipe_error(&mut self, e: Errno) {
    self.pipe_error.get_or_insert(e);
  }

  fn done(&self) -> bool {
    self.child.exit.is_some() && !self.pipes.iter().any(Pipe::active)
  }

  /// Node's `SyncProcessRunner::Kill`: once; signal the child if it still runs; close every pipe;
  /// stop the timer.
  fn kill(&mut self) {
    if self.killed {
      return;
    }
    self.killed = true;
    match self.child.signal(self.kill_signal) {
      Ok(()) | Err(Errno(libc::ESRCH)) => {}
      Err(e) => {
        self.set_error(e);
        // We may lack the rights to signal it at all; then there is nothing more to do.
        let _ = self.child.signal(libc::SIGKILL);
      }
    }
    for pipe in &mut self.pipes {
      pipe.fd = None;
    }
    self.deadline = None;
  }

  fn run(&mut self) {
    // Like libuv's uv_write, try the input at once: the socket buffer usually takes all of it.
    for i in 0..self.pipes.len() {
      self.on_writable(i);
    }
    let mut pollfds: Vec<libc::pollfd> = Vec::with_capacity(self.pipes.len() + 1);
    // Pipe index of each pollfd; None for the pidfd.
    let mut owners: Vec<Option<usize>> = Vec::with_capacity(self.pipes.len() + 1);
    let mut exit_poll_ms: i64 = 1;
    while !self.done() {
      pollfds.clear();
      owners.clear();
      for (i, pipe) in self.pipes.iter().enumerate().filter(|(_, p)| p.active()) {
        let events = match pipe.io {
          Io::Input { .. } => libc::POLLOUT,
          Io::Output { .. } => libc::POLLIN,
        };
        pollfds.push(libc::pollfd {
          fd: pipe.raw(),
          events,
          revents: 0,
        });
        owners.push(Some(i));
      }
      let watch_exit = self.child.exit.is_none();
      match (&self.child.pidfd, watch_exit) {
        (Some(pidfd), true) => {
          pollfds.push(libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
          });
          owners.push(None);
        }
        (None, true) if pollfds.is_empty() && self.deadline.is_none() => {
          // Nothing left but the exit, and no pidfd: a blocking waitpid is exact.
          self.child.reap(true);
          continue;
        }
        _ => {}
      }

      let mut timeout = self.deadline.map(|d| {
        let left = d.saturating_duration_since(Instant::now());
        // Round up: waking a little early would only cost another poll round.
        left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i64
      });
      if watch_exit && self.child.pidfd.is_none() {
        timeout = Some(timeout.map_or(exit_poll_ms, |t| t.min(exit_poll_ms)));
        exit_poll_ms = (exit_poll_ms * 2).min(MAX_EXIT_POLL_MS);
      }
      if timeout != Some(0) {
        // SAFETY: pollfds is a valid array of pollfds.len() entries.
        let n = unsafe {
          libc::poll(
            pollfds.as_mut_ptr(),
            pollfds.len() as libc::nfds_t,
            timeout.map_or(-1, |t| t as libc::c_int),
          )
        };
        if n < 0 {
          match Errno::last() {
            Errno(libc::EINTR) => continue,
            // ENOMEM: nothing can be waited for any more. Stop the child and reap it.
            e => {
              self.set_error(e);
              self.kill();
              self.child.reap(true);
              break;
            }
          }
        }
      }

      for (pfd, owner) in pollfds.iter().zip(&owners) {
        if pfd.revents == 0 {
          continue;
        }
        match *owner {
          Some(i) => match self.pipes[i].io {
            Io::Input { .. } => self.on_writable(i),
            Io::Output { .. } => self.on_readable(i),
          },
          None => self.child.reap(false),
        }
      }
      if self.child.pidfd.is_none() {
        self.child.reap(false);
      }
      if self.deadline.is_some_and(|d| Instant::now() >= d) {
        self.set_error(Errno(libc::ETIMEDOUT));
        self.kill();
      }
    }
  }

  fn on_writable(&mut self, i: usize) {
    if !self.pipes[i].active() {
      return;
    }
    if let Err(e) = self.pipes[i].write_input() {
      self.set_pipe_error(e);
    }
  }

  fn on_readable(&mut self, i: usize) {
    for _ in 0..READS_PER_WAKEUP {
      // The kill (below, or for an earlier pipe of this round) closes every pipe.
      if !self.pipes[i].active() {
        return;
      }
      match self.pipes[i].read_chunk() {
        Read::Data(n) => {
          self.buffered += n as u64;
          if self.max_buffer.is_some_and(|max| self.buffered > max) {
            self.set_error(Errno(libc::ENOBUFS));
            self.kill();
          }
        }
        Read::Eof | Read::WouldBlock => return,
        Read::Failed(e) => return self.set_pipe_error(e),
      }
    }
  }

  fn finish(mut self, slots: usize) -> SyncOutcome {
    let mut output: Vec<Option<Vec<u8>>> = vec![None; slots];
    for pipe in self.pipes.drain(..) {
      if let Io::Output { mut data, .. } = pipe.io {
        // The data goes to JS as is (no copy): do not let it pin the spare capacity.
        data.shrink_to_fit();
        if let Some(entry) = output.get_mut(pipe.slot) {
          *entry = Some(data);
        }
      }
    }
    let (status, signal) = self.child.exit.unwrap_or((None, None));
    SyncOutcome {
      pid: self.child.pid,
      status,
      signal,
      output: Some(output),
      error: self.error.or(self.pipe_error),
    }
  }
}

#[cfg(test)]
mod tests;
