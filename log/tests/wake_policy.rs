//! The group-commit writer thread's scheduling policy follows its groups'
//! sizes. Its own test binary, so the process has exactly one writer thread.
#![cfg(target_os = "linux")]

use std::sync::mpsc;

use spoor_log::{EventLog, GroupCommit, LogOptions, PREEMPTING_GROUP_BYTES};

use libc::{SCHED_BATCH, SCHED_OTHER};

/// The policy of this process's one thread named like the log writer
/// (`/proc/self/task/*/stat`, field 41).
fn writer_policy() -> libc::c_int {
    let mut policies = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != "spoor-log-write" {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        // Field 3 (the state) is the first after the name; the policy is field 41.
        policies.push(after_name.split(' ').nth(41 - 3).unwrap().parse().unwrap());
    }
    assert_eq!(policies.len(), 1, "one writer thread");
    policies[0]
}

fn append_and_wait(commit: &GroupCommit, records: Vec<Vec<u8>>) {
    let (tx, rx) = mpsc::channel();
    commit.append(
        records,
        Box::new(move |result| {
            let _ = tx.send(result);
        }),
    );
    rx.recv().unwrap().unwrap();
}

#[test]
fn small_groups_make_the_writer_wait_for_a_core_and_large_ones_preempt() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
    let commit = GroupCommit::start(log);
    // (The thread names itself once it runs: look only after it has answered.)
    append_and_wait(&commit, vec![b"small".to_vec()]);
    assert_eq!(writer_policy(), SCHED_BATCH);

    append_and_wait(&commit, vec![vec![b'x'; PREEMPTING_GROUP_BYTES]]);
    assert_eq!(writer_policy(), SCHED_OTHER);

    append_and_wait(&commit, vec![b"small again".to_vec()]);
    assert_eq!(writer_policy(), SCHED_BATCH);
    commit.shutdown();
}
