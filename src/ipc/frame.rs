//! Splitting the byte stream of an IPC channel into Node's frames, and pairing received fds with
//! the frames they belong to.
//!
//! * `json`: every frame is one line, `JSON.stringify(message) + "\n"`. JSON escapes newlines inside
//!   strings, so a `\n` byte only ever ends a frame. A `\n` byte can never be part of a multi-byte
//!   UTF-8 sequence either, so splitting raw bytes is the same as splitting the decoded text.
//! * `advanced`: every frame is a big-endian `u32` length followed by that many bytes of V8
//!   serializer output.
//!
//! The framer only finds boundaries. Decoding the frames is JS's job (`JSON.parse`,
//! `v8.Deserializer`): a Rust re-implementation would drift from V8.
//!
//! Limits: no frame may be longer than `max_frame` bytes. A length prefix above it, or a line that
//! grows past it without a newline, is a protocol error, so a broken or hostile peer cannot make us
//! buffer without bound.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;

/// The channel's serialization, as `NODE_CHANNEL_SERIALIZATION_MODE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
  Json,
  Advanced,
}

/// Why the framer gave up on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
  /// A frame is (or declares itself) longer than the limit; carries the declared or reached size.
  TooLarge(u64),
}

/// Where a batch of complete frames ends and which fds go with which of its frames.
#[derive(Debug, Default)]
pub struct BatchInfo {
  /// Number of complete frames in the batch.
  pub frames: usize,
  /// `(frame index within the batch, fd)`, in the order the fds arrived.
  pub fds: Vec<(usize, OwnedFd)>,
}

/// Accumulates received bytes and hands out whole frames.
#[derive(Debug)]
pub struct Framer {
  mode: Mode,
  max_frame: usize,
  /// Received bytes. Always starts at a frame boundary.
  buf: Vec<u8>,
  /// `buf[..complete]` holds whole frames only.
  complete: usize,
  /// Number of frames in `buf[..complete]`.
  frames: usize,
  /// json: how far `buf` has been searched for newlines.
  scanned: usize,
  /// Fds received but not yet handed out, with the offset in `buf` at which the chunk that
  /// carried them started.
  fds: VecDeque<(usize, OwnedFd)>,
}

impl Framer {
  pub fn new(mode: Mode, max_frame: usize) -> Framer {
    Framer {
      mode,
      max_frame,
      buf: Vec::new(),
      complete: 0,
      frames: 0,
      scanned: 0,
      fds: VecDeque::new(),
    }
  }

  pub fn mode(&self) -> Mode {
    self.mode
  }

  /// Whether part of a frame has been received and the rest has not (Node's `channel.buffering`).
  pub fn buffering(&self) -> bool {
    self.buf.len() > self.complete
  }

  /// Whether whole frames are waiting to be taken.
  pub fn has_frames(&self) -> bool {
    self.frames > 0
  }

  /// Room to receive at least `min` more bytes. Returns the spare capacity to read into; report
  /// what was written with [`Framer::commit`].
  pub fn spare(&mut self, min: usize) -> &mut [std::mem::MaybeUninit<u8>] {
    let mut want = min;
    if self.mode == Mode::Advanced {
      // A large frame of known size: make room for all of it at once, so it is read with as few
      // syscalls (and reallocations) as the kernel allows.
      if let Some(rest) = self.partial_frame_rest() {
        want = want.max(rest.min(self.max_frame));
      }
    }
    self.buf.reserve(want);
    self.buf.spare_capacity_mut()
  }

  /// Bytes still missing from the partial advanced frame at the end of `buf`, when its header is
  /// complete.
  fn partial_frame_rest(&self) -> Option<usize> {
    let head = self.buf.get(self.complete..self.complete + 4)?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    (self.complete + 4 + len).checked_sub(self.buf.len())
  }

  /// Accepts `n` bytes just written into the spare capacity, and the fds that arrived with them.
  ///
  /// # Safety
  /// The first `n` bytes of the slice last returned by [`Framer::spare`] must be initialised.
  pub unsafe fn commit(&mut self, n: usize, fds: Vec<OwnedFd>) -> Result<(), FrameError> {
    let start = self.buf.len();
    debug_assert!(n <= self.buf.capacity() - start);
    // SAFETY: the caller initialised these bytes, within capacity.
    unsafe { self.buf.set_len(start + n) };
    for fd in fds {
      self.fds.push_back((start, fd));
    }
    self.scan()
  }

  /// Appends bytes (for tests and for callers that already hold the data).
  pub fn push(&mut self, data: &[u8], fds: Vec<OwnedFd>) -> Result<(), FrameError> {
    let start = self.buf.len();
    self.buf.extend_from_slice(data);
    for fd in fds {
      self.fds.push_back((start, fd));
    }
    self.scan()
  }

  fn scan(&mut self) -> Result<(), FrameError> {
    match self.mode {
      Mode::Json => self.scan_json(),
      Mode::Advanced => self.scan_advanced(),
    }
  }

  fn scan_json(&mut self) -> Result<(), FrameError> {
    let new = &self.buf[self.scanned..];
    // Only the last newline matters for the boundary; the ones before it are counted below.
    if let Some(last) = new.iter().rposition(|&b| b == b'\n') {
      let end = self.scanned + last + 1;
      self.frames += count_newlines(&self.buf[self.complete..end]);
      self.complete = end;
    }
    self.scanned = self.buf.len();
    let partial = self.buf.len() - self.complete;
    if partial > self.max_frame {
      return Err(FrameError::TooLarge(partial as u64));
    }
    Ok(())
  }

  fn scan_advanced(&mut self) -> Result<(), FrameError> {
    let mut pos = self.complete;
    while let Some(head) = self.buf.get(pos..pos + 4) {
      let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
      if len > self.max_frame {
        return Err(FrameError::TooLarge(len as u64));
      }
      if self.buf.len() - pos - 4 < len {
        break;
      }
      pos += 4 + len;
      self.frames += 1;
    }
    self.complete = pos;
    Ok(())
  }

  /// Moves the complete frames into `out` (replacing its contents) and returns how many there are
  /// and which fds belong to them. `None` when there is no complete frame.
  ///
  /// The two buffers swap roles, so neither is reallocated in the steady state; only the trailing
  /// partial frame is copied.
  pub fn take(&mut self, out: &mut Vec<u8>) -> Option<BatchInfo> {
    if self.frames == 0 {
      return None;
    }
    let complete = self.complete;
    let frames = self.frames;
    let fds = self.pair_fds(complete, frames);
    out.clear();
    std::mem::swap(out, &mut self.buf);
    self.buf.extend_from_slice(&out[complete..]);
    out.truncate(complete);
    self.complete = 0;
    self.frames = 0;
    // The tail is one partial frame: every complete frame was counted when it arrived.
    self.scanned = self.buf.len();
    Some(BatchInfo { frames, fds })
  }

  /// Hands out the fds that belong to the first `frames` frames (which end at `complete`) and
  /// rebases the others onto the buffer that will remain.
  ///
  /// An fd belongs to the first frame that starts at or after the start of the chunk that carried
  /// it. With a libuv sender that is exact: the fd travels on the `sendmsg` that carries the first
  /// byte of its frame, and the kernel never merges a chunk with fds into an earlier read.
  fn pair_fds(&mut self, complete: usize, frames: usize) -> Vec<(usize, OwnedFd)> {
    let mut out = Vec::new();
    if self.fds.is_empty() {
      return out;
    }
    let starts = self.frame_starts(complete);
    let mut keep = VecDeque::new();
    while let Some((offset, fd)) = self.fds.pop_front() {
      let index = starts.partition_point(|&s| s < offset);
      if index < frames {
        out.push((index, fd));
      } else {
        keep.push_back((offset.saturating_sub(complete), fd));
      }
    }
    self.fds = keep;
    out
  }

  /// Start offsets of the frames in `buf[..complete]`.
  fn frame_starts(&self, complete: usize) -> Vec<usize> {
    let mut starts = vec![0];
    match self.mode {
      Mode::Json => {
        for (i, &b) in self.buf[..complete].iter().enumerate() {
          if b == b'\n' && i + 1 < complete {
            starts.push(i + 1);
          }
        }
      }
      Mode::Advanced => {
        let mut pos = 0;
        while pos + 4 <= complete {
          let h = &self.buf[pos..pos + 4];
          pos += 4 + u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
          if pos < complete {
            starts.push(pos);
          }
        }
      }
    }
    starts
  }

  /// Drops everything buffered, closing fds that never found their frame.
  pub fn clear(&mut self) {
    self.buf = Vec::new();
    self.complete = 0;
    self.frames = 0;
    self.scanned = 0;
    self.fds.clear();
  }
}

fn count_newlines(bytes: &[u8]) -> usize {
  bytes.iter().filter(|&&b| b == b'\n').count()
}
