//! The "must show" cases on real log files and real Parquet output.

mod common;

use common::*;
use serde_json::json;

#[test]
fn duplicates_sent_minutes_apart_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let t = t0();
    let first = with_props(
        track("dup-1", "purchase_completed", "a1", t, 100),
        json!({"revenue": 20.0, "orderId": "o1", "currency": "EUR"}),
    );
    append(
        dir.path(),
        &[
            first.clone(),
            track("other", "page_viewed", "a1", t + MIN, 100),
        ],
    );
    run(dir.path(), 100);
    // The same event sent again 7 minutes later (a retry after a lost ack), in a later range.
    let mut again = first.clone();
    again.received_at = spoor_pipeline::timefmt::format_ms(t + 7 * MIN);
    append(dir.path(), &[again.clone()]);
    // And once more after a restart of the pipeline.
    run(dir.path(), 100);
    append(dir.path(), &[again]);
    let metrics = run(dir.path(), 100);

    let rows = raw_rows(dir.path());
    assert_eq!(rows.iter().filter(|r| r.event_id == "dup-1").count(), 1);
    assert_eq!(rows.len(), 2);
    assert_eq!(metrics.duplicates, 2);
    assert_eq!(metrics.events, 2);
    assert!((metrics.duplicate_rate() - 0.5).abs() < 1e-9);
    let minute = spoor_pipeline::realtime::read(dir.path()).unwrap();
    let total = minute
        .iter()
        .find(|r| r.minute == t && r.event_name.is_none())
        .unwrap();
    assert_eq!(total.events, 1);
    assert_eq!(total.revenue, 20.0);
    // Another source may reuse the id: not a duplicate.
    let mut other_source = first;
    other_source.source = "ios".into();
    append(dir.path(), &[other_source]);
    run(dir.path(), 100);
    assert_eq!(
        raw_rows(dir.path())
            .iter()
            .filter(|r| r.event_id == "dup-1")
            .count(),
        2
    );
}

#[test]
fn an_event_arriving_after_its_session_closed_lands_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let t = t0();
    append(
        dir.path(),
        &[
            track("s1-a", "page_viewed", "a1", t, 0),
            track("s1-b", "page_viewed", "a1", t + 10 * MIN, 0),
            // 50 minutes of silence: the first session has timed out; a second one starts.
            track("s2-a", "page_viewed", "a1", t + 60 * MIN, 0),
        ],
    );
    run(dir.path(), 100);
    let before = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    assert_eq!(before.len(), 2, "{before:?}");
    // The phone was offline: an event from minute 20 arrives now, after the session closed.
    let mut late = track("s1-late", "product_clicked", "a1", t + 20 * MIN, 0);
    late.received_at = spoor_pipeline::timefmt::format_ms(t + 61 * MIN);
    append(dir.path(), &[late]);
    run(dir.path(), 100);

    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    assert_eq!(
        sessions.len(),
        2,
        "no new session for the late event: {sessions:?}"
    );
    let first = &sessions[0];
    assert_eq!(first.session_id, before[0].session_id);
    assert_eq!(first.event_count, 3);
    assert_eq!(first.end_time, t + 20 * MIN);
    let rows = raw_rows(dir.path());
    let session_of = |id: &str| {
        rows.iter()
            .find(|r| r.event_id == id)
            .unwrap()
            .session_id
            .clone()
    };
    assert_eq!(session_of("s1-late"), session_of("s1-a"));
    assert_ne!(session_of("s2-a"), session_of("s1-a"));
    let metrics = spoor_pipeline::metrics::read(dir.path()).unwrap();
    assert_eq!(metrics.late_events, 0, "within the allowed lateness");
}

#[test]
fn events_beyond_the_allowed_lateness_go_to_raw_only() {
    let dir = tempfile::tempdir().unwrap();
    let t = t0();
    let mut too_late = track("old", "page_viewed", "a1", t - 3 * 60 * MIN, 0);
    too_late.received_at = spoor_pipeline::timefmt::format_ms(t + MIN);
    append(
        dir.path(),
        &[track("now", "page_viewed", "a1", t, 0), too_late],
    );
    let metrics = run(dir.path(), 100);
    assert_eq!(metrics.late_events, 1);
    let rows = raw_rows(dir.path());
    let old = rows.iter().find(|r| r.event_id == "old").unwrap();
    assert!(old.late && old.session_id.is_none());
    assert!(
        old.partition.starts_with("date=2026-05-03/hour=07/"),
        "{}",
        old.partition
    );
    let realtime = spoor_pipeline::realtime::read(dir.path()).unwrap();
    assert!(realtime.iter().all(|r| r.minute >= t));
}

#[test]
fn a_person_tracked_anonymously_then_identified_is_one_person() {
    let dir = tempfile::tempdir().unwrap();
    let t = t0();
    append(
        dir.path(),
        &[
            // Laptop, anonymous, then logs in.
            track("l1", "page_viewed", "laptop", t, 0),
            track("l2", "view_product", "laptop", t + MIN, 0),
            identify("l3", "laptop", "alice", t + 2 * MIN),
            // Phone, anonymous, later logs in too.
            track("p1", "page_viewed", "phone", t + 3 * MIN, 0),
            identify("p2", "phone", "alice", t + 4 * MIN),
            {
                let mut e = track("p3", "purchase_completed", "phone", t + 5 * MIN, 0);
                e.user_id = Some("alice".into());
                e
            },
            // Someone else.
            track("b1", "page_viewed", "bob-device", t + 5 * MIN, 0),
        ],
    );
    run(dir.path(), 3);
    let ids = spoor_pipeline::identity::read(dir.path()).unwrap();
    assert_eq!(ids.get("laptop").map(String::as_str), Some("alice"));
    assert_eq!(ids.get("phone").map(String::as_str), Some("alice"));
    assert_eq!(ids.get("bob-device"), None);

    // Count persons the way analytics do: raw person_id through the identities table.
    let rows = raw_rows(dir.path());
    let persons: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| {
            ids.get(&r.person_id)
                .cloned()
                .unwrap_or_else(|| r.person_id.clone())
        })
        .collect();
    assert_eq!(
        persons.into_iter().collect::<Vec<_>>(),
        vec!["alice".to_string(), "bob-device".to_string()]
    );

    // After the link, both devices' events go to alice's sessions: the phone's events after
    // login land in the session the laptop started. The phone's one anonymous event before
    // the link keeps the session it was written with.
    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    let alice: Vec<_> = sessions.iter().filter(|s| s.person_id == "alice").collect();
    assert_eq!(
        alice.iter().map(|s| s.event_count).sum::<i64>(),
        6,
        "{sessions:?}"
    );
    assert_eq!(alice[0].first_event_id, "l1");
    assert_eq!(alice[0].event_count, 5);
    assert!(
        sessions
            .iter()
            .all(|s| s.person_id == "alice" || s.person_id == "bob-device")
    );
    // Realtime distinct persons in the minute both alice (phone, identified) and bob were active.
    let realtime = spoor_pipeline::realtime::read(dir.path()).unwrap();
    let m5 = realtime
        .iter()
        .find(|r| r.minute == t + 5 * MIN && r.event_name.is_none())
        .unwrap();
    assert_eq!(m5.persons, 2);
}

#[test]
fn restarting_at_every_range_produces_the_outputs_of_a_clean_run() {
    let events = mixed_traffic(12);
    let clean = tempfile::tempdir().unwrap();
    append(clean.path(), &events);
    run(clean.path(), 10_000);
    let expected = outputs(clean.path());
    assert!(expected.metrics.duplicates > 0 && expected.metrics.late_events == 0);
    assert!(expected.sessions.len() > 12);

    // Same log, consumed in small ranges by a fresh runner each time, with leftovers of a
    // crashed range (files past the committed offset) planted before every restart. Each
    // runner writes two ranges; every other one dies before it commits them, leaving their
    // real outputs behind.
    let stepped = tempfile::tempdir().unwrap();
    append(stepped.path(), &events);
    let never = spoor_pipeline::PipelineConfig {
        commit_interval_ms: u64::MAX,
        ..config(97)
    };
    for round in 0.. {
        let runner = spoor_pipeline::Runner::open(stepped.path(), config(97)).unwrap();
        let at = runner.offset();
        let junk = stepped
            .path()
            .join("raw/date=2026-05-03/hour=10/event=page_viewed/source=web");
        std::fs::create_dir_all(&junk).unwrap();
        std::fs::write(
            junk.join(spoor_pipeline::range_file::file_name(at, at + 5, "parquet")),
            b"torn",
        )
        .unwrap();
        drop(runner);
        let mut runner = spoor_pipeline::Runner::open(stepped.path(), never.clone()).unwrap();
        if runner.step().unwrap() + runner.step().unwrap() == 0 {
            runner.compact().unwrap();
            break;
        }
        if round % 2 == 1 {
            runner.commit().unwrap();
        }
    }
    assert_same(&outputs(stepped.path()), &expected);
}

#[test]
fn a_replay_reproduces_the_outputs() {
    let events = mixed_traffic(8);
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &events);
    // A commit after every range, and no compaction: files end at range ends.
    run_with(dir.path(), uncompacted(150, 0));
    let expected = outputs(dir.path());

    // From the middle: ranges were 150 records long, so it rewrites from 600.
    let start = spoor_pipeline::replay::replay(dir.path(), 700, config(64), |_| {}).unwrap();
    assert_eq!(start, 600);
    assert_same(&outputs(dir.path()), &expected);

    let from0 = spoor_pipeline::replay::replay(dir.path(), 0, config(1000), |_| {}).unwrap();
    assert_eq!(from0, 0);
    assert_same(&outputs(dir.path()), &expected);
    assert_eq!(distinct_event_ids(&expected.raw), expected.raw.len());
}

#[test]
fn a_running_pipeline_follows_the_log_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &[track("a", "page_viewed", "a1", t0(), 0)]);
    let pipeline = spoor_pipeline::Pipeline::start(dir.path(), config(100)).unwrap();
    append(
        dir.path(),
        &[track("b", "page_viewed", "a1", t0() + MIN, 0)],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while spoor_pipeline::checkpoint::committed_offset(dir.path()).unwrap() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "pipeline did not catch up"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(pipeline.last_error().is_none());
    pipeline.stop().unwrap();
    assert_eq!(raw_rows(dir.path()).len(), 2);
}

#[test]
fn a_running_pipeline_recovers_when_its_outputs_can_be_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let committed = |d: &std::path::Path| spoor_pipeline::checkpoint::committed_offset(d).unwrap();
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    append(dir.path(), &[track("a", "page_viewed", "a1", t0(), 0)]);
    let pipeline = spoor_pipeline::Pipeline::start(dir.path(), config(100)).unwrap();
    wait_for("first commit", &|| committed(dir.path()) >= 1);

    // `raw/` becomes a file: the next range cannot be written.
    let raw = dir.path().join("raw");
    let aside = dir.path().join("raw-aside");
    std::fs::rename(&raw, &aside).unwrap();
    std::fs::write(&raw, b"in the way").unwrap();
    append(
        dir.path(),
        &[track("b", "page_viewed", "a1", t0() + MIN, 0)],
    );
    wait_for("the failure is reported", &|| {
        pipeline.last_error().is_some()
    });
    assert_eq!(
        committed(dir.path()),
        1,
        "nothing past the failed range commits"
    );

    // The folder comes back: the pipeline opens again by itself and catches up.
    std::fs::remove_file(&raw).unwrap();
    std::fs::rename(&aside, &raw).unwrap();
    wait_for("recovery", &|| committed(dir.path()) >= 2);
    pipeline.stop().unwrap();
    assert_eq!(raw_rows(dir.path()).len(), 2);
}

#[test]
fn a_runner_reports_where_its_time_went() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &mixed_traffic(6));
    let started = std::time::Instant::now();
    let mut runner = spoor_pipeline::Runner::open(dir.path(), config(50)).unwrap();
    runner.run_to_end(|_| {}).unwrap();
    let wall = started.elapsed().as_secs_f64();
    let p = runner.phase_seconds();
    let phases = [
        p.read,
        p.parse,
        p.stages,
        p.outputs,
        p.hand_over,
        p.commit,
        p.compaction_wait,
    ];
    assert!(phases.iter().all(|s| *s >= 0.0));
    assert!(p.parse > 0.0 && p.stages > 0.0 && p.outputs > 0.0 && p.commit > 0.0);
    assert!(phases.iter().sum::<f64>() <= wall, "{p:?} in {wall} s");
}
