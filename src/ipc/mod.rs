//! The parent's end of a Node IPC channel: framing, SCM_RIGHTS, a coalescing write queue.
//!
//! The wire protocol is Node's own (see `frame.rs`), so an unmodified Node child on the other end
//! (`process.send`, `process.on('message')`) understands us. This module is plain Rust and does no
//! waiting: the napi edge (`binding/ipc.rs`) calls [`Channel::read`] when the socket is readable
//! and [`Channel::flush`] when it is writable, from the JS thread's own event loop.
//!
//! Reading: `recvmsg` in large chunks with room for fds, frames split here, and every complete
//! frame found in one wakeup handed to JS as one batch. Writing: a message is sent at once when
//! nothing is queued (so `send()` followed by `process.exit()` delivers, as in Node); otherwise it is
//! appended to the queue, and queued messages go out together in few large `sendmsg` calls when the
//! socket becomes writable.

mod frame;
mod sys;

use std::collections::VecDeque;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

pub use frame::{BatchInfo, FrameError, Framer, Mode};
pub use sys::guess_handle_type;

use crate::errors::{Errno, Result};
use crate::stdio::dup_above;

/// The largest frame accepted from the peer. V8 cannot make a string longer than 2^29 - 24
/// characters, so a JSON line anywhere near this size could not be parsed anyway; for `advanced`
/// it bounds what a corrupt length prefix can make us allocate.
pub const DEFAULT_MAX_FRAME: usize = 1 << 30;

/// At least this much room is offered to each `recvmsg`. Node reads 64 KiB at a time; reading
/// more per syscall is where batching starts.
const READ_CHUNK: usize = 256 * 1024;

/// Requested SO_SNDBUF of the parent's end (the kernel doubles it, within wmem_max).
const SEND_BUFFER: libc::c_int = 1 << 20;

/// Queued messages are appended to the last queued chunk while it is smaller than this, so that a
/// flush needs few iovecs.
const COALESCE_LIMIT: usize = 1 << 20;

/// One flush `sendmsg` carries at most this many bytes and iovecs.
const FLUSH_MAX_BYTES: usize = 4 << 20;
const FLUSH_MAX_IOVS: usize = 64;

/// How reading stopped for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
  /// The peer closed its end (or died): the normal end of a channel.
  Eof,
  /// `recvmsg` failed (ECONNRESET and the like); Node treats these like EOF.
  Error(Errno),
  /// The peer broke the framing.
  Protocol(FrameError),
}

#[derive(Debug)]
struct Chunk {
  data: Vec<u8>,
  /// Bytes of `data` already written.
  pos: usize,
  /// Goes out as SCM_RIGHTS with the first byte of `data`; ours (a dup) until then.
  fd: Option<OwnedFd>,
}

/// Outgoing bytes that the socket did not take yet.
#[derive(Debug, Default)]
pub struct Writer {
  queue: VecDeque<Chunk>,
  queued: usize,
  written: u64,
  dropped: u64,
  submitted: u64,
}

impl Writer {
  /// Bytes accepted but not yet written to the socket (Node's `writeQueueSize`).
  pub fn queued(&self) -> usize {
    self.queued
  }

  /// Total bytes handed to the kernel so far. A message is delivered once this passes its end.
  pub fn written(&self) -> u64 {
    self.written
  }

  /// Bytes written or given up on ([`Writer::discard`]): every message that ends at or before
  /// this offset is done with.
  pub fn settled(&self) -> u64 {
    self.written + self.dropped
  }

  /// Total bytes accepted so far; right after [`Writer::write`] it is the end offset of that
  /// message in the stream.
  pub fn submitted(&self) -> u64 {
    self.submitted
  }

  /// Writes `data` now if nothing is queued, else queues it. `send_fd` (borrowed from the caller)
  /// travels with the first byte; if that byte has to wait, a CLOEXEC dup of the fd waits with it,
  /// so the caller may close its own at once. An error means nothing was accepted.
  pub fn write(&mut self, sock: RawFd, data: &[u8], send_fd: Option<RawFd>) -> Result<()> {
    if data.is_empty() {
      return Ok(());
    }
    let mut written = 0;
    if self.queue.is_empty() {
      match sys::send(sock, &[IoSlice::new(data)], send_fd) {
        Ok(n) => written = n,
        Err(Errno(libc::EAGAIN)) => {}
        Err(e) => return Err(e),
      }
    }
    if written < data.len() {
      let fd = match (written, send_fd) {
        (0, Some(fd)) => Some(dup_above(fd, 0)?),
        _ => None,
      };
      self.enqueue(&data[written..], fd);
    }
    self.written += written as u64;
    self.submitted += data.len() as u64;
    Ok(())
  }

  fn enqueue(&mut self, data: &[u8], fd: Option<OwnedFd>) {
    self.queued += data.len();
    if fd.is_none() {
      if let Some(last) = self.queue.back_mut() {
        if last.data.len() < COALESCE_LIMIT {
          last.data.extend_from_slice(data);
          return;
        }
      }
    }
    self.queue.push_back(Chunk {
      data: data.to_vec(),
      pos: 0,
      fd,
    });
  }

  /// Writes queued bytes until the queue is empty or the socket is full. Returns the number of
  /// bytes written. On error the queue is kept; the caller decides (a dead peer cannot take it).
  pub fn flush(&mut self, sock: RawFd) -> Result<usize> {
    let mut total = 0;
    while let Some(front) = self.queue.front() {
      let send_fd = if front.pos == 0 {
        front.fd.as_ref().map(AsRawFd::as_raw_fd)
      } else {
        None
      };
      let mut iovs = Vec::with_capacity(FLUSH_MAX_IOVS.min(self.queue.len()));
      let mut bytes = 0;
      for (i, chunk) in self.queue.iter().enumerate() {
        // A chunk with an fd must start its own sendmsg: the fd names the frame it starts.
        if i > 0 && chunk.fd.is_some() {
          break;
        }
        if iovs.len() == FLUSH_MAX_IOVS || bytes >= FLUSH_MAX_BYTES {
          break;
        }
        let rest = &chunk.data[chunk.pos..];
        bytes += rest.len();
        iovs.push(IoSlice::new(rest));
      }
      let n = match sys::send(sock, &iovs, send_fd) {
        Ok(n) => n,
        Err(Errno(libc::EAGAIN)) => break,
        Err(e) => return Err(e),
      };
      drop(iovs);
      self.advance(n);
      total += n;
      if n < bytes {
        // The socket is full; asking again would only return EAGAIN.
        break;
      }
    }
    Ok(total)
  }

  fn advance(&mut self, mut n: usize) {
    self.written += n as u64;
    self.queued -= n;
    while n > 0 {
      let Some(front) = self.queue.front_mut() else {
        break;
      };
      // Some of this chunk went out, so did its fd: our dup is no longer needed.
      front.fd = None;
      let rest = front.data.len() - front.pos;
      if n >= rest {
        n -= rest;
        self.queue.pop_front();
      } else {
        front.pos += n;
        n = 0;
      }
    }
  }

  /// Forgets everything queued (the channel is gone). Returns the number of bytes dropped.
  pub fn discard(&mut self) -> usize {
    let dropped = self.queued;
    self.queue.clear();
    self.queued = 0;
    self.dropped += dropped as u64;
    dropped
  }
}

/// The parent's end of one IPC channel.
#[derive(Debug)]
pub struct Channel {
  sock: OwnedFd,
  framer: Framer,
  writer: Writer,
}

impl Channel {
  /// Takes ownership of `sock`, which must be a non-blocking `AF_UNIX` stream socket.
  pub fn new(sock: OwnedFd, mode: Mode, max_frame: usize) -> Channel {
    // On a Unix stream socket the sender's buffer bounds the bytes in flight. The default
    // (~208 KiB) holds a few milliseconds of a busy stream; a larger one lets a child that reads in
    // bursts keep up without us waiting for it. Best effort: the kernel caps it at wmem_max.
    let size: libc::c_int = SEND_BUFFER;
    // SAFETY: setsockopt with a pointer to a c_int of the right size.
    unsafe {
      libc::setsockopt(
        sock.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_SNDBUF,
        (&size as *const libc::c_int).cast(),
        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
      )
    };
    Channel {
      sock,
      framer: Framer::new(mode, max_frame),
      writer: Writer::default(),
    }
  }

  pub fn fd(&self) -> RawFd {
    self.sock.as_raw_fd()
  }

  pub fn mode(&self) -> Mode {
    self.framer.mode()
  }

  pub fn writer(&self) -> &Writer {
    &self.writer
  }

  /// Whether a frame has started arriving and not finished.
  pub fn buffering(&self) -> bool {
    self.framer.buffering()
  }

  /// Reads what the socket has, up to about `budget` bytes. Complete frames are then available
  /// from [`Channel::take_batch`]. Returns `Some` once reading is over for good; frames received
  /// before the end are still there to take.
  ///
  /// A short read normally means the socket is drained (as libuv reasons), which saves the
  /// `recvmsg` that would only say EAGAIN. When the peer has hung up (`peer_closed`, from
  /// EPOLLRDHUP), reading goes on to the EOF instead, so that the end is seen in the same wakeup
  /// as the last data, as libuv sees it.
  pub fn read(&mut self, budget: usize, peer_closed: bool) -> Option<ReadEnd> {
    let mut total = 0;
    let mut fds = Vec::new();
    loop {
      let spare = self.framer.spare(READ_CHUNK);
      let room = spare.len();
      let n = match sys::recv(self.sock.as_raw_fd(), spare, &mut fds) {
        Ok(0) => return Some(ReadEnd::Eof),
        Ok(n) => n,
        Err(Errno(libc::EAGAIN)) => return None,
        Err(e) => return Some(ReadEnd::Error(e)),
      };
      let got_fds = !fds.is_empty();
      // SAFETY: recv initialised the first n bytes of the spare capacity.
      if let Err(e) = unsafe { self.framer.commit(n, std::mem::take(&mut fds)) } {
        return Some(ReadEnd::Protocol(e));
      }
      total += n;
      // A chunk that carried fds ends early, whatever is left behind it.
      let drained = n < room && !got_fds && !peer_closed;
      if drained || total >= budget {
        return None;
      }
    }
  }

  /// Moves the complete frames received so far into `out`. See [`Framer::take`].
  pub fn take_batch(&mut self, out: &mut Vec<u8>) -> Option<BatchInfo> {
    self.framer.take(out)
  }

  /// See [`Writer::write`].
  pub fn write(&mut self, data: &[u8], send_fd: Option<RawFd>) -> Result<()> {
    self.writer.write(self.sock.as_raw_fd(), data, send_fd)
  }

  /// See [`Writer::flush`].
  pub fn flush(&mut self) -> Result<usize> {
    self.writer.flush(self.sock.as_raw_fd())
  }

  /// Drops unread input and fds that never found their frame.
  pub fn clear_input(&mut self) {
    self.framer.clear();
  }

  /// Drops queued output.
  pub fn discard_output(&mut self) -> usize {
    self.writer.discard()
  }
}

#[cfg(test)]
mod tests;
