//! Crash safety of the real `spoor` binary: SIGKILL mid-stream loses no
//! acknowledged event, and a torn tail is cut off on the next start.

mod common;

use std::collections::HashSet;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "crash-test-key";

type Relay = common::Spoor;

fn start(data_dir: &Path) -> Relay {
    common::start("relay", data_dir, KEY, "crash-read-key")
}

fn kill(relay: &mut Relay) {
    // SIGKILL: no shutdown code runs.
    unsafe { libc::kill(relay.child.id() as i32, libc::SIGKILL) };
    relay.child.wait().unwrap();
}

fn logged_ids(data_dir: &Path) -> HashSet<String> {
    common::log_cat(data_dir, false)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["eventId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Clients send until the relay dies; returns the eventIds answered 2xx.
fn send_until_killed(relay: &mut Relay, clients: usize, run_for: Duration) -> HashSet<String> {
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (acked, stop, url) = (Arc::clone(&acked), Arc::clone(&stop), format!("http://{}/api/events/batch", relay.addr));
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let ids: Vec<String> = (0..1 + i % 5).map(|k| format!("c{c}-{i}-{k}")).collect();
                    let batch: Vec<_> = ids
                        .iter()
                        .map(|id| serde_json::json!({"eventId": id, "eventName": "add_to_cart", "anonymousId": format!("a{c}"), "properties": {"productId": "p1"}}))
                        .collect();
                    let sent = client.post(&url).bearer_auth(KEY).json(&serde_json::json!({ "batch": batch })).send();
                    match sent {
                        Ok(r) if r.status().is_success() => acked.lock().unwrap().extend(ids),
                        Ok(r) => panic!("unexpected answer {}", r.status()),
                        Err(_) => break, // the relay is gone
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(run_for);
    kill(relay);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = start(dir.path());
    let acked = send_until_killed(&mut relay, 8, Duration::from_millis(1500));
    assert!(
        acked.len() > 100,
        "too few events were sent: {}",
        acked.len()
    );
    let mut relay = start(dir.path());
    let logged = logged_ids(dir.path());
    let missing: Vec<_> = acked.difference(&logged).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events are missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    // The restarted relay keeps appending after what survived.
    let r = reqwest::blocking::Client::new()
        .post(format!("http://{}/api/events", relay.addr))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"eventId": "after-restart", "eventName": "signed_up", "userId": "u"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    kill(&mut relay);
    assert!(logged_ids(dir.path()).contains("after-restart"));
}

#[test]
fn torn_tail_is_recovered_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = start(dir.path());
    let acked = send_until_killed(&mut relay, 2, Duration::from_millis(500));
    // Simulate a crash in the middle of writing a record: half a record at the end.
    let segment = std::fs::read_dir(dir.path().join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let mut framed = Vec::new();
    spoor_log::record::encode_into(
        &mut framed,
        br#"{"eventId":"torn","eventName":"signed_up"}"#,
    );
    // Where the records end: the file goes on with zeroed, preallocated space.
    let bytes = std::fs::read(&segment).unwrap();
    let mut end = 0;
    while let spoor_log::record::Decoded::Record(_, len) = spoor_log::record::decode(&bytes[end..])
    {
        end += len;
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    f.write_all_at(&framed[..framed.len() / 2], end as u64)
        .unwrap();
    drop(f);

    let mut relay = start(dir.path());
    std::thread::sleep(Duration::from_millis(100));
    let said = relay.output.lock().unwrap().join("\n");
    assert!(
        said.contains("torn tail"),
        "the relay should report the repair: {said}"
    );
    let logged = logged_ids(dir.path());
    assert!(!logged.contains("torn"));
    assert!(acked.is_subset(&logged));
    kill(&mut relay);
}
