//! `recvmsg`/`sendmsg` on the channel socket, with file descriptors as SCM_RIGHTS ancillary data.

use std::io::IoSlice;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::errors::{cvt, Errno, Result};

/// Room for this many fds per `recvmsg`. Node sends one fd per message and the kernel never merges
/// two fd-carrying chunks into one read, so more than one is already a misbehaving peer; the rest
/// are cut off (`MSG_CTRUNC`) and closed by the kernel.
const MAX_FDS_PER_READ: usize = 16;

/// Control-message buffer, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct CmsgBuf([u8; 512]);

fn cmsg_space(fds: usize) -> usize {
  // SAFETY: CMSG_SPACE is pure arithmetic.
  unsafe { libc::CMSG_SPACE((fds * size_of::<RawFd>()) as u32) as usize }
}

/// One `recvmsg` into `buf`. Returns the byte count (0 at EOF) and pushes any received fds, which
/// are CLOEXEC from birth (`MSG_CMSG_CLOEXEC`) so that a concurrent spawn cannot inherit them.
pub fn recv(fd: RawFd, buf: &mut [MaybeUninit<u8>], fds: &mut Vec<OwnedFd>) -> Result<usize> {
  let mut cmsg = CmsgBuf([0; 512]);
  let space = cmsg_space(MAX_FDS_PER_READ);
  debug_assert!(space <= cmsg.0.len());
  let mut iov = libc::iovec {
    iov_base: buf.as_mut_ptr().cast(),
    iov_len: buf.len(),
  };
  // SAFETY: msghdr is plain data; every pointer set below outlives the call.
  let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cmsg.0.as_mut_ptr().cast();
  msg.msg_controllen = space;
  let n = loop {
    // SAFETY: msg describes valid buffers.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
    if n >= 0 {
      break n as usize;
    }
    let e = Errno::last();
    if e.0 != libc::EINTR {
      return Err(e);
    }
  };
  // SAFETY: walking the control messages the kernel wrote into msg_control.
  unsafe {
    let mut c = libc::CMSG_FIRSTHDR(&msg);
    while !c.is_null() {
      if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
        let data = libc::CMSG_DATA(c);
        let len = (*c).cmsg_len as usize - (data as usize - c as usize);
        for i in 0..len / size_of::<RawFd>() {
          let raw = std::ptr::read_unaligned(data.cast::<RawFd>().add(i));
          // Each received fd is new in this process and owned by nobody else.
          fds.push(OwnedFd::from_raw_fd(raw));
        }
      }
      c = libc::CMSG_NXTHDR(&msg, c);
    }
  }
  Ok(n)
}

/// One `sendmsg` of `bufs`, with `send_fd` attached as SCM_RIGHTS when given. Never blocks and
/// never raises SIGPIPE (a dead peer is `EPIPE`). Returns the number of bytes written.
pub fn send(fd: RawFd, bufs: &[IoSlice<'_>], send_fd: Option<RawFd>) -> Result<usize> {
  let mut cmsg = CmsgBuf([0; 512]);
  // SAFETY: msghdr is plain data; every pointer set below outlives the call. IoSlice is
  // guaranteed ABI-compatible with iovec.
  let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
  msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
  msg.msg_iovlen = bufs.len();
  if let Some(passed) = send_fd {
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    msg.msg_controllen = cmsg_space(1);
    // SAFETY: the control buffer has room for one cmsghdr with one fd.
    unsafe {
      let c = libc::CMSG_FIRSTHDR(&msg);
      (*c).cmsg_level = libc::SOL_SOCKET;
      (*c).cmsg_type = libc::SCM_RIGHTS;
      (*c).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as usize;
      std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), passed);
    }
  }
  loop {
    // SAFETY: msg describes valid buffers.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) };
    match cvt(n as libc::c_int) {
      Ok(_) => return Ok(n as usize),
      Err(Errno(libc::EINTR)) => continue,
      Err(e) => return Err(e),
    }
  }
}

/// What kind of handle an fd can become, the way libuv's `uv_guess_handle` sees it: `"TCP"` for
/// an IPv4/IPv6 stream socket, `"UDP"` for a datagram one, `"PIPE"` for a Unix socket or a FIFO,
/// `"UNKNOWN"` for anything else (Node NACKs those).
pub fn guess_handle_type(fd: RawFd) -> &'static str {
  // SAFETY: fstat/getsockopt only fill the structures we pass.
  unsafe {
    let mut st: libc::stat = std::mem::zeroed();
    if libc::fstat(fd, &mut st) != 0 {
      return "UNKNOWN";
    }
    match st.st_mode & libc::S_IFMT {
      libc::S_IFIFO => return "PIPE",
      libc::S_IFSOCK => {}
      _ => return "UNKNOWN",
    }
    let int_opt = |opt| {
      let mut v: libc::c_int = 0;
      let mut len = size_of::<libc::c_int>() as libc::socklen_t;
      let ok = libc::getsockopt(
        fd,
        libc::SOL_SOCKET,
        opt,
        (&mut v as *mut libc::c_int).cast(),
        &mut len,
      ) == 0;
      ok.then_some(v)
    };
    let (Some(ty), Some(domain)) = (int_opt(libc::SO_TYPE), int_opt(libc::SO_DOMAIN)) else {
      return "UNKNOWN";
    };
    match (domain, ty) {
      (libc::AF_UNIX, _) => "PIPE",
      (libc::AF_INET | libc::AF_INET6, libc::SOCK_STREAM) => "TCP",
      (libc::AF_INET | libc::AF_INET6, libc::SOCK_DGRAM) => "UDP",
      _ => "UNKNOWN",
    }
  }
}
