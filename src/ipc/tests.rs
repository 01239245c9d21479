use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use super::*;
use crate::stdio::{set_nonblocking, socketpair};

fn pair() -> (Channel, UnixStream) {
  pair_with(Mode::Json, DEFAULT_MAX_FRAME)
}

fn pair_with(mode: Mode, max: usize) -> (Channel, UnixStream) {
  let (a, b) = socketpair().unwrap();
  set_nonblocking(a.as_raw_fd(), true).unwrap();
  (Channel::new(a, mode, max), UnixStream::from(b))
}

fn adv(payload: &[u8]) -> Vec<u8> {
  let mut v = (payload.len() as u32).to_be_bytes().to_vec();
  v.extend_from_slice(payload);
  v
}

fn devnull() -> OwnedFd {
  std::fs::File::open("/dev/null").unwrap().into()
}

fn inode(fd: RawFd) -> u64 {
  let mut st: libc::stat = unsafe { std::mem::zeroed() };
  assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
  st.st_ino
}

/// Sends `data` on a plain socket with `fd` attached, the way libuv's sendmsg does.
fn send_with_fd(sock: &UnixStream, data: &[u8], fd: RawFd) {
  let n = sys::send(sock.as_raw_fd(), &[IoSlice::new(data)], Some(fd)).unwrap();
  assert_eq!(n, data.len());
}

// ---- framing ---------------------------------------------------------------------------------

/// `(frame index, raw fd)` of a batch's fds.
fn paired(info: &BatchInfo) -> Vec<(usize, RawFd)> {
  info
    .fds
    .iter()
    .map(|(i, fd)| (*i, fd.as_raw_fd()))
    .collect()
}

#[test]
fn json_frames_split_anywhere() {
  let mut f = Framer::new(Mode::Json, 1024);
  let mut out = Vec::new();
  f.push(b"{\"a\":1}\n{\"b\"", vec![]).unwrap();
  assert!(f.buffering());
  let info = f.take(&mut out).unwrap();
  assert_eq!((info.frames, out.as_slice()), (1, &b"{\"a\":1}\n"[..]));
  assert!(f.take(&mut out).is_none());
  f.push(b":2}\n3\n", vec![]).unwrap();
  assert!(!f.buffering());
  let info = f.take(&mut out).unwrap();
  assert_eq!((info.frames, out.as_slice()), (2, &b"{\"b\":2}\n3\n"[..]));
}

#[test]
fn json_line_over_the_limit_is_an_error() {
  let mut f = Framer::new(Mode::Json, 8);
  f.push(b"12345678", vec![]).unwrap();
  assert_eq!(f.push(b"9", vec![]), Err(FrameError::TooLarge(9)));
  // A long line is fine once its newline is there.
  let mut f = Framer::new(Mode::Json, 8);
  f.push(b"1234\n5678\n", vec![]).unwrap();
}

#[test]
fn advanced_frames_with_split_header() {
  let mut f = Framer::new(Mode::Advanced, 1024);
  let mut out = Vec::new();
  let mut wire = adv(b"hello");
  wire.extend(adv(b""));
  wire.extend(adv(&[7; 300]));
  // Feed byte by byte: headers and payloads split everywhere.
  let mut seen = Vec::new();
  for b in &wire {
    f.push(&[*b], vec![]).unwrap();
    if let Some(info) = f.take(&mut out) {
      seen.push((info.frames, out.clone()));
    }
  }
  assert!(!f.buffering());
  let frames: usize = seen.iter().map(|s| s.0).sum();
  assert_eq!(frames, 3);
  assert_eq!(seen.concat_bytes(), wire);
}

trait ConcatBytes {
  fn concat_bytes(&self) -> Vec<u8>;
}
impl ConcatBytes for Vec<(usize, Vec<u8>)> {
  fn concat_bytes(&self) -> Vec<u8> {
    self.iter().flat_map(|s| s.1.clone()).collect()
  }
}

#[test]
fn advanced_huge_length_prefix_fails_before_buffering() {
  let mut f = Framer::new(Mode::Advanced, 1 << 20);
  assert_eq!(
    f.push(&[0xff, 0xff, 0xff, 0xff], vec![]),
    Err(FrameError::TooLarge(0xffff_ffff))
  );
  // "Negative" as an int32, as Node's parser would read it.
  let mut f = Framer::new(Mode::Advanced, 1 << 20);
  assert!(f.push(&[0x80, 0, 0, 0, 1, 2], vec![]).is_err());
}

#[test]
fn many_frames_in_one_batch() {
  let mut f = Framer::new(Mode::Advanced, 1024);
  let mut wire = Vec::new();
  for i in 0..1000u32 {
    wire.extend(adv(&i.to_le_bytes()));
  }
  f.push(&wire, vec![]).unwrap();
  let mut out = Vec::new();
  assert_eq!(f.take(&mut out).unwrap().frames, 1000);
  assert_eq!(out, wire);
}

#[test]
fn fds_pair_with_the_frame_their_chunk_starts() {
  let mut f = Framer::new(Mode::Json, 1024);
  let mut out = Vec::new();
  let (a, b, c) = (devnull(), devnull(), devnull());
  let (ia, ib, ic) = (a.as_raw_fd(), b.as_raw_fd(), c.as_raw_fd());
  f.push(b"0\n", vec![]).unwrap();
  f.push(b"1\n2", vec![a]).unwrap(); // frame 1 starts this chunk
  f.push(b"\n3\n", vec![]).unwrap();
  f.push(b"4", vec![b]).unwrap(); // frame 4, incomplete for now
  let info = f.take(&mut out).unwrap();
  assert_eq!(info.frames, 4);
  let got = paired(&info);
  assert_eq!(got, vec![(1, ia)]);
  // The chunk carrying c starts in the middle of frame 4 (not a libuv sender): c goes with the
  // next frame that starts, frame 5 (index 1 of the next batch).
  f.push(b"4", vec![c]).unwrap();
  f.push(b"\n5\n", vec![]).unwrap();
  let info = f.take(&mut out).unwrap();
  let got = paired(&info);
  assert_eq!(got, vec![(0, ib), (1, ic)]);
  assert_eq!(out, b"44\n5\n");
}

#[test]
fn fds_pair_in_advanced_mode() {
  let mut f = Framer::new(Mode::Advanced, 1024);
  let mut out = Vec::new();
  let a = devnull();
  let ia = a.as_raw_fd();
  f.push(&adv(b"x"), vec![]).unwrap();
  let second = adv(b"handle");
  f.push(&second[..3], vec![a]).unwrap();
  assert!(f.take(&mut out).unwrap().fds.is_empty());
  f.push(&second[3..], vec![]).unwrap();
  let info = f.take(&mut out).unwrap();
  let got = paired(&info);
  assert_eq!(got, vec![(0, ia)]);
}

/// A pipe whose read end is the fd under test: once every copy of the read end is closed, a write
/// to the write end fails with EPIPE. Unlike counting open fds, this is exact while other tests
/// open and close fds on other threads.
fn canary() -> (OwnedFd, OwnedFd) {
  let mut fds = [0; 2];
  assert_eq!(
    unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) },
    0
  );
  unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn all_read_ends_closed(write_end: &OwnedFd) -> bool {
  let r = unsafe { libc::write(write_end.as_raw_fd(), b"x".as_ptr().cast(), 1) };
  r == -1 && Errno::last() == Errno(libc::EPIPE)
}

#[test]
fn clear_closes_unpaired_fds() {
  let (r, w) = canary();
  let mut f = Framer::new(Mode::Json, 1024);
  f.push(b"partial", vec![r.try_clone().unwrap(), r]).unwrap();
  assert!(!all_read_ends_closed(&w));
  f.clear();
  assert!(all_read_ends_closed(&w));
}

// ---- the channel over a real socketpair ------------------------------------------------------

#[test]
fn reads_to_eof_after_the_peer_is_gone() {
  let (mut ch, mut peer) = pair();
  // One write: a thousand tiny writes would fill the socket's buffer with per-write overhead.
  let text: String = (0..1000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
  peer.write_all(text.as_bytes()).unwrap();
  drop(peer);
  let mut out = Vec::new();
  let mut frames = 0;
  let end = loop {
    let end = ch.read(1 << 20, false);
    while let Some(info) = ch.take_batch(&mut out) {
      frames += info.frames;
    }
    if let Some(end) = end {
      break end;
    }
  };
  assert_eq!(end, ReadEnd::Eof);
  assert_eq!(frames, 1000);
}

#[test]
fn after_a_hang_up_the_eof_comes_with_the_last_data() {
  let (mut ch, mut peer) = pair();
  peer.write_all(b"1\n2\n").unwrap();
  drop(peer);
  assert_eq!(ch.read(1 << 20, true), Some(ReadEnd::Eof));
  let mut out = Vec::new();
  assert_eq!(ch.take_batch(&mut out).unwrap().frames, 2);
}

#[test]
fn read_stops_at_would_block() {
  let (mut ch, mut peer) = pair();
  peer.write_all(b"1\n2\n").unwrap();
  assert_eq!(ch.read(1 << 20, false), None);
  let mut out = Vec::new();
  assert_eq!(ch.take_batch(&mut out).unwrap().frames, 2);
  assert_eq!(ch.read(1 << 20, false), None);
  assert!(ch.take_batch(&mut out).is_none());
}

#[test]
fn protocol_error_is_reported() {
  let (mut ch, mut peer) = pair_with(Mode::Advanced, 1024);
  peer.write_all(&adv(b"ok")).unwrap();
  peer.write_all(&[0xff, 0xff, 0xff, 0xf0]).unwrap();
  assert_eq!(
    ch.read(1 << 20, false),
    Some(ReadEnd::Protocol(FrameError::TooLarge(0xffff_fff0)))
  );
  // The good frame before it is still delivered.
  let mut out = Vec::new();
  assert_eq!(ch.take_batch(&mut out).unwrap().frames, 1);
}

#[test]
fn receives_fds_with_their_frames() {
  let (mut ch, peer) = pair();
  let file = devnull();
  send_with_fd(&peer, b"{\"cmd\":\"NODE_HANDLE\"}\n", file.as_raw_fd());
  (&peer).write_all(b"{\"after\":1}\n").unwrap();
  assert_eq!(ch.read(1 << 20, false), None);
  let mut out = Vec::new();
  let mut info = ch.take_batch(&mut out).unwrap();
  assert_eq!(info.frames, 2);
  assert_eq!(info.fds.len(), 1);
  let (index, fd) = info.fds.pop().unwrap();
  assert_eq!(index, 0);
  assert_eq!(inode(fd.as_raw_fd()), inode(file.as_raw_fd()));
  // MSG_CMSG_CLOEXEC: a received fd cannot leak into a concurrent spawn.
  assert_ne!(
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) } & libc::FD_CLOEXEC,
    0
  );
}

#[test]
fn writes_at_once_when_idle() {
  let (mut ch, mut peer) = pair();
  ch.write(b"hello\n", None).unwrap();
  assert_eq!(ch.writer().queued(), 0);
  assert_eq!(ch.writer().written(), 6);
  let mut buf = [0; 6];
  peer.read_exact(&mut buf).unwrap();
  assert_eq!(&buf, b"hello\n");
}

#[test]
fn queues_when_full_and_flushes_coalesced() {
  let (mut ch, mut peer) = pair();
  let msg = [b'x'; 1000];
  let mut sent = 0;
  while ch.writer().queued() == 0 {
    ch.write(&msg, None).unwrap();
    sent += msg.len();
  }
  for _ in 0..100 {
    ch.write(&msg, None).unwrap();
    sent += msg.len();
  }
  assert_eq!(ch.writer().submitted(), sent as u64);
  assert!(ch.writer().queued() > 100 * msg.len());
  // Everything queued sits in one chunk: one sendmsg per flush while the peer keeps up.
  assert_eq!(ch.writer.queue.len(), 1);
  let reader = std::thread::spawn(move || {
    let mut total = 0;
    let mut buf = vec![0; 1 << 16];
    while total < sent {
      total += peer.read(&mut buf).unwrap();
    }
    total
  });
  while ch.writer().queued() > 0 {
    ch.flush().unwrap();
  }
  assert_eq!(reader.join().unwrap(), sent);
  assert_eq!(ch.writer().written(), sent as u64);
}

#[test]
fn queued_fd_travels_with_its_frame_even_if_the_caller_closes_it() {
  let (mut ch, peer) = pair();
  // Fill the socket so the next write has to queue.
  let filler = vec![b'f'; 4096];
  while ch.writer().queued() == 0 {
    ch.write(&filler, None).unwrap();
  }
  let file = devnull();
  let ino = inode(file.as_raw_fd());
  ch.write(b"H\n", Some(file.as_raw_fd())).unwrap();
  drop(file); // the caller may close its handle at once
  ch.write(b"after\n", None).unwrap();
  let total = ch.writer().submitted() as usize;
  let mut peer_ch = Channel::new(OwnedFd::from(peer), Mode::Json, DEFAULT_MAX_FRAME);
  set_nonblocking(peer_ch.fd(), true).unwrap();
  let mut out = Vec::new();
  let mut received = Vec::new();
  let mut data = Vec::new();
  while data.len() < total {
    ch.flush().unwrap();
    peer_ch.read(1 << 20, false);
    while let Some(info) = peer_ch.take_batch(&mut out) {
      received.extend(info.fds);
      data.extend_from_slice(&out);
    }
  }
  let text = String::from_utf8_lossy(&data);
  assert!(
    text.ends_with("H\nafter\n"),
    "{}",
    &text[text.len().saturating_sub(20)..]
  );
  assert_eq!(received.len(), 1);
  assert_eq!(inode(received[0].1.as_raw_fd()), ino);
}

#[test]
fn write_to_a_dead_peer_is_epipe_and_accepts_nothing() {
  let (mut ch, peer) = pair();
  drop(peer);
  assert_eq!(ch.write(b"x\n", None), Err(Errno(libc::EPIPE)));
  assert_eq!(ch.writer().submitted(), 0);
  assert_eq!(ch.writer().queued(), 0);
}

#[test]
fn no_fd_leaks_over_many_passes() {
  let (r, w) = canary();
  {
    let (mut ch, peer) = pair();
    let mut peer_ch = Channel::new(OwnedFd::from(peer), Mode::Json, DEFAULT_MAX_FRAME);
    set_nonblocking(peer_ch.fd(), true).unwrap();
    let mut out = Vec::new();
    for _ in 0..200 {
      ch.write(b"{\"cmd\":\"NODE_HANDLE\"}\n", Some(r.as_raw_fd()))
        .unwrap();
      peer_ch.read(1 << 20, false);
      let info = peer_ch.take_batch(&mut out).unwrap();
      assert_eq!(info.fds.len(), 1);
    }
    // Some queued with a dup, then dropped with the channel.
    let filler = vec![b'f'; 4096];
    while ch.writer().queued() == 0 {
      ch.write(&filler, None).unwrap();
    }
    ch.write(b"{}\n", Some(r.as_raw_fd())).unwrap();
  }
  drop(r);
  assert!(all_read_ends_closed(&w));
}

#[test]
fn guesses_handle_types_like_libuv() {
  let (a, _b) = socketpair().unwrap();
  assert_eq!(guess_handle_type(a.as_raw_fd()), "PIPE");
  let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
  assert_eq!(guess_handle_type(tcp.as_raw_fd()), "TCP");
  let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
  assert_eq!(guess_handle_type(udp.as_raw_fd()), "UDP");
  assert_eq!(guess_handle_type(devnull().as_raw_fd()), "UNKNOWN");
  assert_eq!(guess_handle_type(-1), "UNKNOWN");
}
