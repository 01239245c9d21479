use super::*;
use std::io::Read;
use std::os::fd::AsRawFd;

fn c(s: &str) -> CString {
  CString::new(s).unwrap()
}

fn plan(file: &str, args: &[&str], stdio: Vec<StdioSpec>) -> SpawnPlan {
  let mut argv = vec![c(file)];
  argv.extend(args.iter().map(|a| c(a)));
  SpawnPlan {
    file: c(file),
    argv,
    envp: vec![c("PATH=/usr/bin:/bin")],
    stdio,
    ..Default::default()
  }
}

fn wait(pid: libc::pid_t) -> i32 {
  let mut status = 0;
  assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
  status
}

/// Reads a parent pipe end to EOF (it is non-blocking, so poll first).
fn read_all(fd: OwnedFd) -> String {
  crate::stdio::set_nonblocking(fd.as_raw_fd(), false).unwrap();
  let mut f = std::fs::File::from(fd);
  let mut s = String::new();
  f.read_to_string(&mut s).unwrap();
  s
}

fn run(p: SpawnPlan) -> (i32, Vec<String>) {
  let out = spawn(&p);
  let pid = out.result.expect("spawn");
  let texts = out
    .stdio
    .into_iter()
    .skip(1)
    .map(|fd| fd.map(read_all).unwrap_or_default())
    .collect();
  (wait(pid), texts)
}

#[test]
fn echo_through_a_socketpair() {
  let (status, out) = run(plan(
    "echo",
    &["hi"],
    vec![StdioSpec::Ignore, StdioSpec::Pipe, StdioSpec::Pipe],
  ));
  assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
  assert_eq!(out, vec!["hi\n".to_string(), String::new()]);
}

#[test]
fn swapping_stdout_and_stderr_works() {
  // The child's fd 1 is our pipe B and its fd 2 is pipe A: the dup2 dance must not clobber.
  let (a_parent, a_child) = crate::stdio::socketpair().unwrap();
  let (b_parent, b_child) = crate::stdio::socketpair().unwrap();
  let p = plan(
    "sh",
    &["-c", "echo out; echo err >&2"],
    vec![
      StdioSpec::Ignore,
      StdioSpec::Fd(b_child.as_raw_fd()),
      StdioSpec::Fd(a_child.as_raw_fd()),
    ],
  );
  let pid = spawn(&p).result.unwrap();
  drop((a_child, b_child));
  wait(pid);
  assert_eq!(read_all(a_parent), "err\n");
  assert_eq!(read_all(b_parent), "out\n");
}

#[test]
fn program_is_searched_on_the_childs_path() {
  let mut p = plan("true", &[], vec![StdioSpec::Ignore; 3]);
  p.envp = vec![c("PATH=/nonexistent")];
  assert_eq!(spawn(&p).result.unwrap_err(), Errno(libc::ENOENT));
  p.envp = vec![c("PATH=/nonexistent:/bin")];
  let pid = spawn(&p).result.unwrap();
  assert_eq!(libc::WEXITSTATUS(wait(pid)), 0);
}

#[test]
fn eacces_is_remembered_over_enoent() {
  let dir = std::env::temp_dir().join(format!("cprs-eacces-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("noexec"), "#!/bin/sh\n").unwrap();
  let env = vec![c(&format!("PATH=/nonexistent:{}", dir.display()))];
  assert_eq!(
    resolve_program(&c("noexec"), &env, None).unwrap_err(),
    Errno(libc::EACCES)
  );
  assert_eq!(
    resolve_program(&c("missing"), &env, None).unwrap_err(),
    Errno(libc::ENOENT)
  );
  std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn relative_path_entries_resolve_against_the_cwd() {
  let found = resolve_program(&c("sh"), &[c("PATH=bin")], Some(c"/")).unwrap();
  assert_eq!(found, c("bin/sh"));
}

#[test]
fn cwd_and_spawn_errors() {
  let mut p = plan(
    "pwd",
    &[],
    vec![StdioSpec::Ignore, StdioSpec::Pipe, StdioSpec::Ignore],
  );
  p.cwd = Some(c("/tmp"));
  let (_, out) = run(p);
  assert_eq!(out[0], "/tmp\n");

  let mut p = plan("pwd", &[], vec![StdioSpec::Ignore; 3]);
  p.cwd = Some(c("/definitely/not/here"));
  assert_eq!(spawn(&p).result.unwrap_err(), Errno(libc::ENOENT));
}

#[test]
fn failed_spawn_still_returns_the_pipes() {
  let out = spawn(&plan("no-such-program-xyz", &[], vec![StdioSpec::Pipe; 3]));
  assert_eq!(out.result.unwrap_err(), Errno(libc::ENOENT));
  assert!(out.stdio.iter().all(Option::is_some));
  // The child ends are closed, so our ends read EOF at once.
  for fd in out.stdio.into_iter().skip(1).flatten() {
    assert_eq!(read_all(fd), "");
  }
}

#[test]
fn no_fd_leaks_into_the_child() {
  // An fd opened *without* CLOEXEC must still not reach the child.
  let leaky = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
  assert!(leaky > 2);
  let (_, out) = run(plan(
    "sh",
    &["-c", "ls /proc/self/fd | wc -l"],
    vec![StdioSpec::Ignore, StdioSpec::Pipe, StdioSpec::Ignore],
  ));
  unsafe { libc::close(leaky) };
  // 0, 1, 2 and the fd `ls` opens for the directory.
  assert_eq!(out[0].trim(), "4");
}

#[test]
fn signals_are_reset_and_unmasked() {
  // Block and ignore SIGTERM here; the child must see neither.
  unsafe {
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::sigaddset(&mut set, libc::SIGUSR2);
    libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
  }
  let (_, out) = run(plan(
    "sh",
    &["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"],
    vec![StdioSpec::Ignore, StdioSpec::Pipe, StdioSpec::Ignore],
  ));
  assert!(out[0].contains("SigBlk:\t0000000000000000"), "{}", out[0]);
}

#[test]
fn detached_child_leads_its_own_session() {
  let mut p = plan(
    "sh",
    &["-c", "ps -o sid= -p $$; echo $$"],
    vec![StdioSpec::Ignore, StdioSpec::Pipe, StdioSpec::Ignore],
  );
  p.detached = true;
  let (_, out) = run(p);
  let v: Vec<&str> = out[0].split_whitespace().collect();
  if v.len() == 2 {
    assert_eq!(v[0], v[1]);
  }
}

#[test]
fn fork_path_reports_exec_errors_and_runs() {
  let mut p = plan(
    "sh",
    &["-c", "id -u"],
    vec![StdioSpec::Ignore, StdioSpec::Pipe, StdioSpec::Ignore],
  );
  let me = unsafe { libc::getuid() };
  p.uid = Some(me);
  p.gid = Some(unsafe { libc::getgid() });
  let (_, out) = run(p);
  assert_eq!(out[0].trim(), me.to_string());

  let mut p = plan("/no/such/file", &[], vec![StdioSpec::Ignore; 3]);
  p.uid = Some(me);
  assert_eq!(spawn(&p).result.unwrap_err(), Errno(libc::ENOENT));
}

#[test]
fn script_without_shebang_runs_with_bin_sh_like_execvp() {
  let dir = std::env::temp_dir().join(format!("cprs-noexec-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let script = dir.join("script");
  std::fs::write(&script, "echo \"args:$0:$1:$2\"\n").unwrap();
  std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
  let path = script.to_str().unwrap();
  let (status, out) = run(plan(
    path,
    &["a", "b"],
    vec![StdioSpec::Ignore, StdioSpec::Pipe],
  ));
  assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
  assert_eq!(out[0], format!("args:{path}:a:b\n"));
  std::fs::remove_dir_all(&dir).unwrap();
}
