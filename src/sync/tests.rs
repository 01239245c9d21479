use super::*;
use crate::spawn::StdioSpec;
use std::ffi::CString;

fn c(s: &str) -> CString {
  CString::new(s).unwrap()
}

/// `sh -c script` with stdin, stdout and stderr piped.
fn sh(script: &str) -> SpawnPlan {
  SpawnPlan {
    file: c("/bin/sh"),
    argv: vec![c("sh"), c("-c"), c(script)],
    envp: vec![c("PATH=/usr/bin:/bin")],
    stdio: vec![StdioSpec::Pipe; 3],
    ..Default::default()
  }
}

fn options(input: &[u8]) -> SyncOptions<'_> {
  SyncOptions {
    inputs: vec![(0, input)],
    ..Default::default()
  }
}

fn out(o: &SyncOutcome, slot: usize) -> String {
  let bytes = o.output.as_ref().unwrap()[slot].as_ref().unwrap();
  String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn collects_stdout_stderr_and_the_status() {
  let o = spawn_sync(&sh("echo out; echo err >&2; exit 3"), &options(b""));
  assert!(o.pid > 0);
  assert_eq!((o.status, o.signal, o.error), (Some(3), None, None));
  assert_eq!(
    o.output.as_ref().unwrap()[0],
    None,
    "stdin is not an output"
  );
  assert_eq!((out(&o, 1), out(&o, 2)), ("out\n".into(), "err\n".into()));
}

#[test]
fn reports_the_terminating_signal() {
  let o = spawn_sync(&sh("kill -USR1 $$"), &options(b""));
  assert_eq!(
    (o.status, o.signal, o.error),
    (None, Some(libc::SIGUSR1), None)
  );
}

#[test]
fn spawn_failure_has_no_output_and_no_pid() {
  let mut p = sh("");
  p.file = c("/no/such/program");
  let o = spawn_sync(&p, &options(b""));
  assert_eq!(o.error, Some(Errno(libc::ENOENT)));
  assert_eq!((o.pid, o.status, o.signal), (0, None, None));
  assert!(o.output.is_none());
}

#[test]
fn big_input_while_the_child_writes_a_lot_does_not_deadlock() {
  // 8 MiB is far beyond any socket buffer: `cat` blocks writing its stdout until we read, while
  // we still have input to write. Only a loop that does both at once finishes.
  let input: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
  let o = spawn_sync(&sh("cat; cat /dev/null >&2"), &options(&input));
  assert_eq!((o.status, o.error), (Some(0), None));
  assert!(o.output.as_ref().unwrap()[1].as_deref() == Some(&input[..]));
}

#[test]
fn unread_input_is_epipe_but_the_status_stays() {
  let input = vec![0u8; 4 * 1024 * 1024];
  let o = spawn_sync(&sh("exec 0<&-; exit 0"), &options(&input));
  assert_eq!((o.status, o.error), (Some(0), Some(Errno(libc::EPIPE))));
}

#[test]
fn timeout_kills_with_the_kill_signal() {
  let mut opts = options(b"");
  // Long enough for the shell to have written "before" even on a loaded machine.
  opts.timeout = Some(Duration::from_millis(1000));
  let o = spawn_sync(&sh("echo before; exec sleep 10"), &opts);
  assert_eq!(o.error, Some(Errno(libc::ETIMEDOUT)));
  assert_eq!((o.status, o.signal), (None, Some(libc::SIGTERM)));
  assert_eq!(out(&o, 1), "before\n");

  opts.kill_signal = libc::SIGKILL;
  opts.timeout = Some(Duration::from_millis(100));
  let o = spawn_sync(&sh("trap '' TERM; exec sleep 10"), &opts);
  assert_eq!(
    (o.error, o.signal),
    (Some(Errno(libc::ETIMEDOUT)), Some(libc::SIGKILL))
  );
}

#[test]
fn timeout_after_exit_while_a_grandchild_holds_the_pipe() {
  // The child exits at once; its background job keeps stdout open. The timeout then only closes
  // our pipes: the status is the child's own.
  let mut opts = options(b"");
  // Long enough for the child to have exited even on a loaded machine.
  opts.timeout = Some(Duration::from_millis(1000));
  let o = spawn_sync(&sh("echo a; sleep 3 & exit 0"), &opts);
  assert_eq!((o.status, o.signal), (Some(0), None));
  assert_eq!(o.error, Some(Errno(libc::ETIMEDOUT)));
  assert_eq!(out(&o, 1), "a\n");
}

#[test]
fn max_buffer_counts_all_pipes_together() {
  // 3 bytes on each stream: each alone is under 5, together over.
  let mut opts = options(b"");
  opts.max_buffer = Some(5);
  let o = spawn_sync(&sh("printf abc; printf def >&2; exec sleep 10"), &opts);
  assert_eq!(o.error, Some(Errno(libc::ENOBUFS)));
  assert_eq!((o.status, o.signal), (None, Some(libc::SIGTERM)));
  assert_eq!((out(&o, 1), out(&o, 2)), ("abc".into(), "def".into()));

  opts.max_buffer = Some(6);
  let o = spawn_sync(&sh("printf abc; printf def >&2"), &opts);
  assert_eq!((o.status, o.error), (Some(0), None));
}

#[test]
fn non_pipe_slots_have_no_output() {
  let mut p = sh("echo hidden; echo extra >&3");
  p.stdio = vec![
    StdioSpec::Ignore,
    StdioSpec::Ignore,
    StdioSpec::Pipe,
    StdioSpec::Pipe,
  ];
  let o = spawn_sync(&p, &SyncOptions::default());
  let output = o.output.unwrap();
  assert_eq!(output.len(), 4);
  assert_eq!((&output[0], &output[1]), (&None, &None));
  assert_eq!(output[3].as_deref(), Some(&b"extra\n"[..]));
}

#[test]
fn without_a_pidfd_the_exit_is_still_seen() {
  // The path for kernels before 5.3: waitpid(WNOHANG) at growing intervals, or a blocking
  // waitpid once nothing else is left to wait for.
  let o = run(&sh("echo out; exit 4"), &options(b""), false);
  assert_eq!(
    (o.status, o.error, out(&o, 1)),
    (Some(4), None, "out\n".into())
  );
  let mut opts = options(b"");
  opts.timeout = Some(Duration::from_millis(100));
  let o = run(&sh("exec sleep 10"), &opts, false);
  assert_eq!(
    (o.error, o.signal),
    (Some(Errno(libc::ETIMEDOUT)), Some(libc::SIGTERM))
  );
  opts.timeout = Some(Duration::from_millis(1000));
  let o = run(&sh("echo a; sleep 3 & exit 0"), &opts, false);
  assert_eq!((o.status, o.error), (Some(0), Some(Errno(libc::ETIMEDOUT))));
  let mut p = sh("exit 5");
  p.stdio = vec![StdioSpec::Ignore; 3];
  assert_eq!(run(&p, &SyncOptions::default(), false).status, Some(5));
}

#[test]
fn signals_interrupting_the_loop_change_nothing() {
  // A handler without SA_RESTART makes poll, send and read fail with EINTR whenever the signal
  // lands on this thread. SIGURG is ignored by default, so no other test can mind the handler.
  extern "C" fn noop(_: libc::c_int) {}
  unsafe {
    let mut sa: libc::sigaction = std::mem::zeroed();
    sa.sa_sigaction = noop as extern "C" fn(libc::c_int) as usize;
    libc::sigaction(libc::SIGURG, &sa, std::ptr::null_mut());
  }
  let me = unsafe { libc::pthread_self() };
  let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
  let pelter = {
    let stop = stop.clone();
    std::thread::spawn(move || {
      while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        unsafe { libc::pthread_kill(me, libc::SIGURG) };
        std::thread::sleep(Duration::from_micros(200));
      }
    })
  };
  let input: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 7) as u8).collect();
  let mut opts = options(&input);
  opts.timeout = Some(Duration::from_secs(20));
  let o = spawn_sync(&sh("sleep 0.2; cat; echo err >&2"), &opts);
  stop.store(true, std::sync::atomic::Ordering::Relaxed);
  pelter.join().unwrap();
  assert_eq!((o.status, o.signal, o.error), (Some(0), None, None));
  assert!(o.output.as_ref().unwrap()[1].as_deref() == Some(&input[..]));
  assert_eq!(out(&o, 2), "err\n");
}

#[test]
fn does_not_spin_while_waiting() {
  // CPU time of this thread over a run that mostly waits: a busy loop would burn all of it.
  fn cpu() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    Duration::from_micros(us(ru.ru_utime) + us(ru.ru_stime))
  }
  let before = cpu();
  let o = spawn_sync(&sh("sleep 0.5"), &options(b""));
  assert_eq!(o.status, Some(0));
  assert!(cpu() - before < Duration::from_millis(150));
}

/// Our live or zombie children, from /proc.
fn children() -> Vec<libc::pid_t> {
  let me = std::process::id().to_string();
  std::fs::read_dir("/proc")
    .unwrap()
    .filter_map(|e| {
      let name = e.ok()?.file_name().into_string().ok()?;
      let stat = std::fs::read_to_string(format!("/proc/{name}/stat")).ok()?;
      // The fields after the parenthesised command: state, then ppid.
      let rest = &stat[stat.rfind(')')? + 2..];
      let ppid = rest.split(' ').nth(1)?;
      (ppid == me).then(|| name.parse().ok())?
    })
    .collect()
}

#[test]
fn leaves_no_fds_and_no_children() {
  // Other tests open fds and spawn children concurrently, so the counts are only meaningful in a
  // process of our own: run this very test alone in a fresh copy of the test binary.
  if std::env::var_os("CPRS_SYNC_LEAK_PROBE").is_none() {
    let probe = std::process::Command::new(std::env::current_exe().unwrap())
      .args([
        "--exact",
        "sync::tests::leaves_no_fds_and_no_children",
        "--test-threads=1",
      ])
      .env("CPRS_SYNC_LEAK_PROBE", "1")
      .output()
      .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success(), "{text}");
    // The filter matched this test, so the probe really ran.
    assert!(text.contains("1 passed"), "{text}");
    return;
  }
  let fds = crate::stdio::count_open_fds();
  for script in ["echo hi", "exit 2", "kill -9 $$", "cat"] {
    let o = spawn_sync(&sh(script), &options(b"input"));
    assert!(o.output.is_some());
  }
  let mut opts = options(b"");
  opts.timeout = Some(Duration::from_millis(50));
  spawn_sync(&sh("exec sleep 5"), &opts);
  opts.max_buffer = Some(1);
  spawn_sync(&sh("echo long; exec sleep 5"), &opts);
  let mut p = sh("");
  p.file = c("/no/such/program");
  spawn_sync(&p, &opts);
  assert_eq!(crate::stdio::count_open_fds(), fds);
  assert_eq!(children(), Vec::<libc::pid_t>::new());
}
