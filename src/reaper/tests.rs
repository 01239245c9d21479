use super::*;
use crate::spawn::{spawn, SpawnPlan, StdioSpec};
use std::ffi::CString;
use std::sync::mpsc;
use std::time::Duration;

fn start(script: &str) -> libc::pid_t {
  let plan = SpawnPlan {
    file: CString::new("/bin/sh").unwrap(),
    argv: ["sh", "-c", script]
      .iter()
      .map(|s| CString::new(*s).unwrap())
      .collect(),
    envp: vec![],
    stdio: vec![StdioSpec::Ignore; 3],
    ..Default::default()
  };
  spawn(&plan).result.unwrap()
}

fn watch_channel(pid: libc::pid_t) -> mpsc::Receiver<Exit> {
  let (tx, rx) = mpsc::channel();
  watch(
    pid,
    Box::new(move |e| {
      let _ = tx.send(e);
    }),
  );
  rx
}

const T: Duration = Duration::from_secs(10);

#[test]
fn reports_exit_code() {
  let rx = watch_channel(start("exit 7"));
  let e = rx.recv_timeout(T).unwrap();
  assert_eq!((e.code, e.signal), (Some(7), None));
}

#[test]
fn kill_goes_through_the_pidfd_and_fails_with_esrch_after_reaping() {
  let pid = start("sleep 30");
  let rx = watch_channel(pid);
  send_signal(pid, 0).unwrap();
  send_signal(pid, libc::SIGKILL).unwrap();
  let e = rx.recv_timeout(T).unwrap();
  assert_eq!((e.code, e.signal), (None, Some(libc::SIGKILL)));
  assert_eq!(send_signal(pid, libc::SIGTERM), Err(Errno(libc::ESRCH)));
}

#[test]
fn many_children_each_reported_once() {
  let rxs: Vec<_> = (0..50)
    .map(|i| (i, watch_channel(start(&format!("exit {}", i % 7)))))
    .collect();
  for (i, rx) in rxs {
    let e = rx.recv_timeout(T).unwrap();
    assert_eq!(e.code, Some(i % 7));
    assert!(rx.recv_timeout(Duration::from_millis(1)).is_err());
  }
}

#[test]
fn other_children_are_left_alone() {
  // A child we do not watch must stay unreaped (its owner, e.g. libuv, reaps it).
  let theirs = start("exit 3");
  let rx = watch_channel(start("exit 0"));
  rx.recv_timeout(T).unwrap();
  std::thread::sleep(Duration::from_millis(50));
  let mut status = 0;
  assert_eq!(unsafe { libc::waitpid(theirs, &mut status, 0) }, theirs);
  assert_eq!(libc::WEXITSTATUS(status), 3);
}

#[test]
fn panicking_callback_does_not_stop_the_reaper() {
  watch(start("exit 0"), Box::new(|_| panic!("callback panics")));
  let rx = watch_channel(start("exit 1"));
  assert_eq!(rx.recv_timeout(T).unwrap().code, Some(1));
}
