//! A full disk: the relay answers 503 with Retry-After, acknowledges nothing it
//! could not write, keeps the log readable, and recovers once space is back.
//!
//! The test mounts a 1 MiB tmpfs, so it needs root (as CI has); it fails with a
//! clear message otherwise rather than pass without testing anything.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestRelay;
use serde_json::{Value, json};

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Self {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "mounting a tmpfs failed: this test needs root (CI runs as root)"
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn batch(n: usize, from: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (from..from + n).map(|i| format!("full-{i}")).collect();
    let events: Vec<Value> = ids
        .iter()
        .map(|id| json!({"eventId": id, "eventName": "search_performed", "anonymousId": "a", "properties": {"query": "q".repeat(1000)}}))
        .collect();
    (ids, json!({ "batch": events }).to_string())
}

#[test]
fn full_disk_answers_503_and_loses_nothing_acknowledged() {
    let mount_dir = tempfile::tempdir().unwrap();
    let _tmpfs = Tmpfs::mount(mount_dir.path(), "1m");
    let filler = mount_dir.path().join("filler");
    std::fs::write(&filler, vec![0u8; 256 * 1024]).unwrap();
    let data = mount_dir.path().join("data");
    let relay = TestRelay::start_in(&data, |_| {});

    let mut acked = HashSet::new();
    let mut next = 0;
    let mut refusal = None;
    for _ in 0..100 {
        let (ids, body) = batch(40, next);
        next += 40;
        let response = relay.post("/api/events/batch", &body);
        if response.status() == 503 {
            refusal = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
        acked.extend(ids);
    }
    let refusal = refusal.expect("the disk never filled up");
    assert!(refusal.headers().contains_key("retry-after"));
    let answer: Value = refusal.json().unwrap();
    assert_eq!(answer["error"]["code"], "storage_full");
    assert!(!acked.is_empty());

    // The log holds exactly the acknowledged events: no partial record, nothing lost.
    let logged: HashSet<String> = relay
        .log()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, acked);

    // Space comes back: the relay takes writes again without a restart.
    std::fs::remove_file(&filler).unwrap();
    let (ids, body) = batch(20, next);
    assert_eq!(relay.post("/api/events/batch", &body).status(), 200);
    acked.extend(ids);
    relay.stop();
    let logged: HashSet<String> = common::read_log(&data.join("log"))
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, acked);
}
