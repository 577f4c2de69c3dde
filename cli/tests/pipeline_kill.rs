//! The real `spoor pipeline` process killed with SIGKILL mid-run, again and again, and
//! restarted: the outputs equal those of a clean run; a replay from 0 reproduces them.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spoor_log::{EventLog, LogOptions};
use spoor_pipeline::synth::{Synth, SynthOptions};

const RECORDS: u64 = 6_000;

fn write_log(data_dir: &Path) {
    let mut log = EventLog::open(&data_dir.join("log"), LogOptions::default()).unwrap();
    let synth = Synth::new(SynthOptions {
        records: RECORDS,
        people: 150,
        ..SynthOptions::default()
    });
    let payloads: Vec<Vec<u8>> = synth.map(|e| serde_json::to_vec(&e).unwrap()).collect();
    for chunk in payloads.chunks(1000) {
        log.append(chunk).unwrap();
    }
    log.sync().unwrap();
}

fn spoor(data_dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spoor"));
    cmd.arg("pipeline")
        .arg("--data-dir")
        .arg(data_dir)
        // Commits every few ranges: kills land between commits, with written ranges to redo.
        .args(["--batch", "300", "--poll-ms", "20", "--commit-ms", "30"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// A child that is killed if the test fails before it does (no pipeline left running).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn sigkill(child: &mut Child) {
    // SAFETY: kill(2) on the pid of a child we started and have not reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill failed");
    child.wait().unwrap();
}

/// Everything downstream of the log in comparable form (commit counts left out: they depend
/// on where ranges were cut).
#[derive(Debug, PartialEq)]
struct Outputs {
    raw_rows: usize,
    raw_ids: Vec<(String, String, u64, Option<String>)>,
    sessions: Vec<spoor_pipeline::sessionize::Session>,
    realtime: Vec<spoor_pipeline::realtime::RealtimeRow>,
    identities: Vec<(String, String)>,
    metrics: spoor_pipeline::metrics::Metrics,
}

fn outputs(data_dir: &Path) -> Outputs {
    use spoor_pipeline::{columns, range_file, sink::parquet_file};
    let mut raw_ids = Vec::new();
    for dir in range_file::walk_dirs(&data_dir.join("raw")).unwrap() {
        for file in range_file::list(&dir).unwrap() {
            for batch in parquet_file::read(&file.path).unwrap() {
                for row in 0..batch.num_rows() {
                    raw_ids.push((
                        columns::text(&batch, "source", row).unwrap(),
                        columns::text(&batch, "event_id", row).unwrap(),
                        columns::uint(&batch, "log_offset", row).unwrap(),
                        columns::text(&batch, "session_id", row),
                    ));
                }
            }
        }
    }
    raw_ids.sort();
    let mut metrics = spoor_pipeline::metrics::read(data_dir).unwrap();
    metrics.commits = 0;
    let mut identities: Vec<_> = spoor_pipeline::identity::read(data_dir)
        .unwrap()
        .into_iter()
        .collect();
    identities.sort();
    Outputs {
        raw_rows: raw_ids.len(),
        raw_ids,
        sessions: spoor_pipeline::sessionize::read(data_dir).unwrap(),
        realtime: spoor_pipeline::realtime::read(data_dir).unwrap(),
        identities,
        metrics,
    }
}

fn assert_same(got: &Outputs, want: &Outputs) {
    assert_eq!(got.raw_rows, want.raw_rows, "raw row counts");
    assert!(got.raw_ids == want.raw_ids, "raw rows differ");
    assert_eq!(got.sessions.len(), want.sessions.len(), "session counts");
    assert!(got.sessions == want.sessions, "sessions differ");
    assert!(got.realtime == want.realtime, "realtime aggregates differ");
    assert_eq!(got.identities, want.identities);
    assert_eq!(got.metrics, want.metrics);
}

#[test]
fn sigkill_mid_run_then_restart_gives_the_outputs_of_a_clean_run() {
    let clean = tempfile::tempdir().unwrap();
    write_log(clean.path());
    let status = spoor(clean.path(), &["--once"]).status().unwrap();
    assert!(status.success());
    let expected = outputs(clean.path());
    assert_eq!(expected.metrics.records, RECORDS);
    assert!(expected.metrics.duplicates > 0 && expected.metrics.late_events > 0);
    assert_eq!(expected.raw_rows as u64, expected.metrics.events);

    let crashed = tempfile::tempdir().unwrap();
    write_log(crashed.path());
    let mut kills_mid_run = 0;
    let mut nanos = 0u64;
    for round in 1..=3u64 {
        let before = spoor_pipeline::checkpoint::committed_offset(crashed.path()).unwrap();
        let mut child = KillOnDrop(spoor(crashed.path(), &[]).spawn().unwrap());
        // Let it commit some ranges past where it started, then kill it at an arbitrary moment.
        let target = (RECORDS * round / 4).max(before + 1);
        let deadline = Instant::now() + Duration::from_secs(50);
        while spoor_pipeline::checkpoint::committed_offset(crashed.path()).unwrap_or(0) < target {
            assert!(Instant::now() < deadline, "pipeline made no progress");
            std::thread::sleep(Duration::from_millis(2));
        }
        nanos = nanos
            .wrapping_mul(6364136223846793005)
            .wrapping_add(Instant::now().elapsed().as_nanos() as u64 + round);
        std::thread::sleep(Duration::from_micros(nanos % 15_000));
        sigkill(&mut child.0);
        if spoor_pipeline::checkpoint::committed_offset(crashed.path()).unwrap() < RECORDS {
            kills_mid_run += 1;
        }
    }
    assert!(
        kills_mid_run >= 2,
        "the pipeline finished before it could be killed"
    );
    let status = spoor(crashed.path(), &["--once"]).status().unwrap();
    assert!(status.success());
    assert_same(&outputs(crashed.path()), &expected);

    // A replay from offset 0 rebuilds the same outputs.
    let status = Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(["replay", "--from", "0", "--batch", "5000", "--data-dir"])
        .arg(crashed.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_same(&outputs(crashed.path()), &expected);
}
