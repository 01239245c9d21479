//! Killing a whole process tree.
//!
//! Signalling a child does not reach the processes it started (a shell's pipeline, `npm run`'s
//! node, a test runner's workers). Node offers no way to reach them short of `detached` plus a
//! process-group kill, and a grandchild that moved to its own group escapes even that. We walk the
//! descendants through `/proc/<pid>/task/<tid>/children` instead.
//!
//! The walk races with the tree itself: a process can fork between our read of its children and
//! our signal. So the tree is frozen first: every process found gets SIGSTOP, and the walk repeats
//! until it finds no process it has not stopped. Then each gets the signal, then SIGCONT, so that
//! a catchable signal such as SIGTERM is acted upon.

use std::collections::HashSet;

use crate::errors::{cvt, Errno, Result};
use crate::reaper;

/// The pids of the live descendants of `root` (not `root` itself), parents before children.
pub fn descendants(root: libc::pid_t) -> Vec<libc::pid_t> {
  let mut out = Vec::new();
  let mut queue = vec![root];
  let mut seen = HashSet::from([root]);
  while let Some(pid) = queue.pop() {
    for child in children(pid) {
      if seen.insert(child) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  out
}

/// Direct children of `pid`, from every thread's `children` file (a child belongs to the thread
/// that forked it).
fn children(pid: libc::pid_t) -> Vec<libc::pid_t> {
  let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
    return Vec::new();
  };
  let mut out = Vec::new();
  for task in tasks.flatten() {
    let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
      continue;
    };
    out.extend(
      list
        .split_whitespace()
        .filter_map(|p| p.parse::<libc::pid_t>().ok()),
    );
  }
  out
}

fn kill(pid: libc::pid_t, sig: i32) -> Result<()> {
  // SAFETY: plain syscall.
  cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// Sends `sig` to our child `root` (through its pidfd) and to all of its descendants.
/// ESRCH when `root` is not a live child of ours.
pub fn kill_tree(root: libc::pid_t, sig: i32) -> Result<()> {
  // Freezing the root stops it from forking while we walk; the pidfd makes this safe even if
  // the root has already exited and its pid was reused.
  reaper::send_signal(root, libc::SIGSTOP)?;
  let mut frozen: Vec<libc::pid_t> = Vec::new();
  let mut known: HashSet<libc::pid_t> = HashSet::new();
  loop {
    let fresh: Vec<_> = descendants(root)
      .into_iter()
      .filter(|p| known.insert(*p))
      .collect();
    if fresh.is_empty() {
      break;
    }
    for pid in fresh {
      // A descendant may exit meanwhile; that is fine, it needs no signal then.
      if kill(pid, libc::SIGSTOP).is_ok() {
        frozen.push(pid);
      }
    }
  }
  let result = reaper::send_signal(root, sig);
  for &pid in &frozen {
    let _ = kill(pid, sig);
  }
  if sig != libc::SIGKILL {
    let _ = reaper::send_signal(root, libc::SIGCONT);
    for &pid in &frozen {
      let _ = kill(pid, libc::SIGCONT);
    }
  }
  match result {
    Err(Errno(libc::ESRCH)) if !frozen.is_empty() => Ok(()),
    other => other,
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::spawn::{spawn, SpawnPlan, StdioSpec};
  use std::ffi::CString;
  use std::sync::mpsc;
  use std::time::{Duration, Instant};

  fn alive(pid: libc::pid_t) -> bool {
    // A zombie still answers kill(0); look at its state instead.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
      .map(|s| {
        !s.rsplit(')')
          .next()
          .unwrap_or("")
          .trim_start()
          .starts_with('Z')
      })
      .unwrap_or(false)
  }

  #[test]
  fn kills_grandchildren_that_left_the_process_group() {
    // sh starts a grandchild in a new session (setsid), which a group kill would miss.
    let plan = SpawnPlan {
      file: CString::new("/bin/sh").unwrap(),
      argv: ["sh", "-c", "setsid sleep 30 & sleep 30 & wait"]
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect(),
      envp: vec![CString::new("PATH=/usr/bin:/bin").unwrap()],
      stdio: vec![StdioSpec::Ignore; 3],
      ..Default::default()
    };
    let root = spawn(&plan).result.unwrap();
    let (tx, rx) = mpsc::channel();
    reaper::watch(
      root,
      Box::new(move |e| {
        let _ = tx.send(e);
      }),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut tree = descendants(root);
    while tree.len() < 2 && Instant::now() < deadline {
      std::thread::sleep(Duration::from_millis(10));
      tree = descendants(root);
    }
    assert!(tree.len() >= 2, "{tree:?}");
    kill_tree(root, libc::SIGTERM).unwrap();
    let exit = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(exit.signal, Some(libc::SIGTERM));
    let deadline = Instant::now() + Duration::from_secs(5);
    while tree.iter().any(|&p| alive(p)) && Instant::now() < deadline {
      std::thread::sleep(Duration::from_millis(10));
    }
    assert!(tree.iter().all(|&p| !alive(p)), "survivors: {tree:?}");
    assert_eq!(kill_tree(root, libc::SIGTERM), Err(Errno(libc::ESRCH)));
  }
}
