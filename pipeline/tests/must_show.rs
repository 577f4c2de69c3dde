//! The "must show" cases on real log files and real Parquet output.

mod common;

use common::*;
use std::collections::BTreeSet;

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
    let session_of = |id: &str| session_of(&rows, id);
    assert_eq!(session_of("s1-late"), session_of("s1-a"));
    assert_ne!(session_of("s2-a"), session_of("s1-a"));
    let metrics = spoor_pipeline::metrics::read(dir.path()).unwrap();
    assert_eq!(metrics.late_events, 0, "within the allowed lateness");
}

#[test]
fn events_beyond_the_allowed_lateness_skip_the_streaming_realtime_and_still_get_sessions() {
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
    // Within the hours closed sessions are kept: placed as it streamed by, not by the batch pass.
    assert_eq!(metrics.late_placed, 0);
    let rows = raw_rows(dir.path());
    let old = rows.iter().find(|r| r.event_id == "old").unwrap();
    assert!(old.late);
    assert!(
        old.partition.starts_with("date=2026-05-03/hour=07/"),
        "{}",
        old.partition
    );
    // Three hours before a1's live session: a session of its own.
    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let own = sessions.iter().find(|s| s.first_event_id == "old").unwrap();
    assert_eq!(own.event_count, 1);
    assert_eq!(old.session_id.as_deref(), Some(own.id_text().as_str()));
    // The streaming aggregates left it out; its hour waits for the watermark to pass it by
    // the kept hours before the batch path counts it again (see the next test).
    let realtime = spoor_pipeline::realtime::read(dir.path()).unwrap();
    assert!(realtime.iter().all(|r| r.minute >= t));
}

#[test]
fn the_batch_path_counts_events_later_than_the_allowed_lateness_in_the_realtime_aggregates() {
    // Three people browse and buy from 10:00 to 12:40, one event every 4 minutes each.
    let t = t0();
    let mut events = Vec::new();
    for minute in (0..160).step_by(4) {
        for person in 0..3 {
            let id = format!("e-{minute}-{person}");
            let at = t + (minute + person) * MIN;
            let e = if minute % 20 == 0 {
                with_props(
                    track(&id, "purchase_completed", &format!("p{person}"), at, 0),
                    serde_json::json!({"revenue": 10.5 + person as f64}),
                )
            } else {
                track(&id, "page_viewed", &format!("p{person}"), at, 0)
            };
            events.push(e);
        }
    }
    // No closed sessions kept: the batch path counts an hour as soon as the watermark passed it.
    let in_order = tempfile::tempdir().unwrap();
    append(in_order.path(), &events);
    run_with(in_order.path(), batch_only(7));
    let want = spoor_pipeline::realtime::read(in_order.path()).unwrap();

    // The same events, but a third of the first hour's arrive after everything else: later
    // than the allowed lateness, so the streaming aggregates leave them out.
    let (mut late, mut on_time): (Vec<_>, Vec<_>) =
        events.into_iter().enumerate().partition(|(i, e)| {
            *i % 3 == 0 && e.event_time < spoor_pipeline::timefmt::format_ms(t + 60 * MIN)
        });
    on_time.append(&mut late);
    let shuffled: Vec<_> = on_time.into_iter().map(|(_, e)| e).collect();
    let late_dir = tempfile::tempdir().unwrap();
    append(late_dir.path(), &shuffled);
    let metrics = run_with(late_dir.path(), batch_only(7));
    assert!(metrics.late_events >= 10, "{metrics:?}");
    let got = spoor_pipeline::realtime::read(late_dir.path()).unwrap();
    assert_eq!(got, want);
    assert!(got.iter().any(|r| r.revenue > 0.0));
}

/// [`config`] with no closed sessions kept for late events: every event later than the
/// allowed lateness that falls into no live session goes to the batch pass.
fn batch_only(batch: usize) -> spoor_pipeline::PipelineConfig {
    spoor_pipeline::PipelineConfig {
        recent_session_hours: 0,
        ..config(batch)
    }
}

/// The log of the batch-path tests: `user1` browses at t and t+10m; `busy` moves the watermark
/// to t+2h; then events later than the allowed lateness arrive: one from an anonymous id of
/// `user1` (linked only afterwards) that falls into user1's closed session, two of `c1` three
/// hours back (no session there), one of `d1` that falls into d1's live session.
fn too_late_traffic() -> Vec<spoor_log::event::StoredEvent> {
    let t = t0();
    let arrive = |mut e: spoor_log::event::StoredEvent, at: i64| {
        e.received_at = spoor_pipeline::timefmt::format_ms(at);
        e
    };
    let user = |id: &str, at: i64| {
        let mut e = track(id, "page_viewed", "u-anon", at, 0);
        e.user_id = Some("user1".into());
        e
    };
    vec![
        user("u-1", t),
        user("u-2", t + 10 * MIN),
        track("busy", "page_viewed", "busy", t + 3 * 60 * MIN, 0),
        track("d-1", "page_viewed", "d1", t + 130 * MIN, 0),
        arrive(
            track("u-late", "product_clicked", "b1", t + 25 * MIN, 0),
            t + 3 * 60 * MIN,
        ),
        identify("b1-is-user1", "b1", "user1", t + 3 * 60 * MIN),
        arrive(
            track("c-late-1", "page_viewed", "c1", t - 3 * 60 * MIN, 0),
            t + 3 * 60 * MIN,
        ),
        arrive(
            track("d-late", "page_viewed", "d1", t + 110 * MIN, 0),
            t + 3 * 60 * MIN,
        ),
        arrive(
            track(
                "c-late-2",
                "page_viewed",
                "c1",
                t - 3 * 60 * MIN + 20 * MIN,
                0,
            ),
            t + 3 * 60 * MIN,
        ),
    ]
}

#[test]
fn events_later_than_the_allowed_lateness_land_in_their_sessions_by_the_batch_path() {
    let dir = tempfile::tempdir().unwrap();
    let events = too_late_traffic();
    // The first two late events in one run, the rest in another: the batch path runs after each.
    append(dir.path(), &events[..7]);
    let first = run_with(dir.path(), batch_only(3));
    assert_eq!(first.late_events, 2);
    assert_eq!(first.late_placed, 2);
    append(dir.path(), &events[7..]);
    let metrics = run_with(dir.path(), batch_only(3));
    assert_eq!(metrics.late_events, 4);
    // d-late joined d1's live session as it streamed by; the other three are the batch path's.
    assert_eq!(metrics.late_placed, 3);

    let rows = raw_rows(dir.path());
    let session_of =
        |id: &str| session_of(&rows, id).unwrap_or_else(|| panic!("{id} has no session"));
    assert!(rows.iter().all(|r| r.session_id.is_some()), "{rows:?}");
    // The anonymous late event joined user1's closed session once b1 was linked to user1.
    assert_eq!(session_of("u-late"), session_of("u-1"));
    assert_eq!(session_of("d-late"), session_of("d-1"));
    assert_eq!(session_of("c-late-1"), session_of("c-late-2"));

    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    let by_id = |id: &str| {
        sessions
            .iter()
            .find(|s| s.id_text() == session_of(id))
            .unwrap()
    };
    let t = t0();
    let user1 = by_id("u-1");
    assert_eq!((user1.event_count, user1.person_id.as_str()), (3, "user1"));
    assert_eq!((user1.start_time, user1.end_time), (t, t + 25 * MIN));
    let c1 = by_id("c-late-1");
    assert_eq!(
        (c1.event_count, c1.first_event_id.as_str()),
        (2, "c-late-1")
    );
    assert_eq!(c1.end_time - c1.start_time, 20 * MIN);
    assert_eq!(by_id("d-1").event_count, 2);
    let ids: BTreeSet<_> = sessions.iter().map(|s| s.session_id).collect();
    assert_eq!(ids.len(), sessions.len(), "a session is in one file");
    assert_eq!(sessions.len(), 5, "{sessions:?}"); // user1, busy, d1, c1, b1's identify

    // A replay from the start, and one from the middle, give the same files.
    let expected = outputs(dir.path());
    spoor_pipeline::replay::replay(dir.path(), 0, batch_only(1000), |_| {}).unwrap();
    assert_same(&outputs(dir.path()), &expected);
    spoor_pipeline::replay::replay(dir.path(), 6, batch_only(2), |_| {}).unwrap();
    assert_same(&outputs(dir.path()), &expected);
}

#[test]
fn a_batch_path_cut_short_is_finished_by_the_next_pass() {
    let events = too_late_traffic();
    let clean = tempfile::tempdir().unwrap();
    append(clean.path(), &events);
    run_with(clean.path(), batch_only(4));
    let expected = outputs(clean.path());

    // The same log, but the pass is cut short after it rewrote the session files and before
    // it rewrote the raw rows: simulated by putting the raw files and the checkpoint back the
    // way they were before the pass.
    let cut = tempfile::tempdir().unwrap();
    append(cut.path(), &events);
    let mut runner = spoor_pipeline::Runner::open(cut.path(), batch_only(4)).unwrap();
    while runner.step().unwrap() > 0 {}
    runner.commit().unwrap();
    let mut before: Vec<_> = raw_files(cut.path());
    before.push(cut.path().join("state/checkpoint.json"));
    let saved: Vec<(std::path::PathBuf, Vec<u8>)> = before
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    runner.compact().unwrap();
    drop(runner);
    for (path, bytes) in &saved {
        std::fs::write(path, bytes).unwrap();
    }
    assert!(raw_rows(cut.path()).iter().any(|r| r.session_id.is_none()));
    run_with(cut.path(), batch_only(4));
    assert_same(&outputs(cut.path()), &expected);
}

#[test]
fn a_late_event_falling_into_a_live_session_waits_for_it_to_close() {
    let dir = tempfile::tempdir().unwrap();
    let t = t0();
    let mut too_late = track("w-late", "page_viewed", "w1", t - 65 * MIN, 0);
    too_late.received_at = spoor_pipeline::timefmt::format_ms(t);
    append(
        dir.path(),
        &[
            track("busy", "page_viewed", "busy", t, 0),
            // Behind the watermark (t - 60m) with no session of w1 to join yet...
            too_late,
            // ...and then a session of w1 opens within 30 minutes of it, still live.
            track("w-1", "page_viewed", "w1", t - 55 * MIN, 0),
        ],
    );
    let metrics = run_with(dir.path(), batch_only(1));
    assert_eq!((metrics.late_events, metrics.late_placed), (1, 0));
    let waiting = raw_rows(dir.path());
    assert!(
        waiting
            .iter()
            .any(|r| r.event_id == "w-late" && r.session_id.is_none())
    );

    // Time moves on: w1's session closes, and the next pass places the event in it.
    append(
        dir.path(),
        &[track("busy-2", "page_viewed", "busy", t + 3 * 60 * MIN, 0)],
    );
    let metrics = run_with(dir.path(), batch_only(1));
    assert_eq!(metrics.late_placed, 1);
    let rows = raw_rows(dir.path());
    let session_of = |id: &str| session_of(&rows, id);
    assert!(session_of("w-late").is_some());
    assert_eq!(session_of("w-late"), session_of("w-1"));
    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    let w1 = sessions.iter().find(|s| s.person_id == "w1").unwrap();
    assert_eq!(
        (w1.event_count, w1.start_time, w1.first_event_id.as_str()),
        (2, t - 65 * MIN, "w-late")
    );
}

#[test]
fn a_late_event_reopens_its_closed_session_as_it_streams_by() {
    let dir = tempfile::tempdir().unwrap();
    let events = too_late_traffic();
    // Ranges of 3 records: user1's session closes at the end of the first, before the late
    // event (in the second) comes.
    append(dir.path(), &events);
    // c1's events are 5 hours behind the watermark: keep closed sessions for 6.
    let keep_6h = spoor_pipeline::PipelineConfig {
        recent_session_hours: 6,
        ..config(3)
    };
    let metrics = run_with(dir.path(), keep_6h.clone());
    assert_eq!(metrics.late_events, 4);
    assert_eq!(
        metrics.late_placed, 0,
        "every one within the hours closed sessions are kept"
    );
    let rows = raw_rows(dir.path());
    let session_of = |id: &str| session_of(&rows, id);
    assert!(rows.iter().all(|r| r.session_id.is_some()), "{rows:?}");
    assert_eq!(session_of("d-late"), session_of("d-1"));
    assert_eq!(session_of("c-late-1"), session_of("c-late-2"));
    // u-late came from b1 before b1 was linked to user1: the streaming path knows b1 only, so
    // it opened a session of b1's.
    assert_ne!(session_of("u-late"), session_of("u-1"));

    let t = t0();
    let mut reopen = track("u-late-2", "product_clicked", "u-anon", t + 30 * MIN, 0);
    reopen.user_id = Some("user1".into());
    reopen.received_at = spoor_pipeline::timefmt::format_ms(t + 3 * 60 * MIN);
    append(dir.path(), &[reopen]);
    run_with(dir.path(), keep_6h);
    let rows = raw_rows(dir.path());
    let session_of = |id: &str| common::session_of(&rows, id);
    assert_eq!(session_of("u-late-2"), session_of("u-1"));
    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    let id = session_of("u-1").unwrap();
    let user1: Vec<_> = sessions.iter().filter(|s| s.id_text() == id).collect();
    assert_eq!(user1.len(), 1, "{user1:?}");
    assert_eq!((user1[0].event_count, user1[0].end_time), (3, t + 30 * MIN));
    // Written again when it closed again; the batch pass removed the older row.
    assert_eq!(session_rows_with_id(dir.path(), &id), 1);
}

#[test]
fn a_late_event_of_a_visitor_who_signed_in_since_reopens_their_anonymous_session() {
    let t = t0();
    let before = [
        track("v-1", "page_viewed", "v-anon", t, 0),
        track("v-2", "page_viewed", "v-anon", t + 5 * MIN, 0),
        // The watermark goes to t + 40.5m: v-anon's session (ends t + 5m) closes.
        track("busy", "page_viewed", "busy", t + 100 * MIN + MIN / 2, 0),
        // The visitor signs in: v-anon is linked to v-user.
        identify("v-id", "v-anon", "v-user", t + 101 * MIN),
    ];
    // An event of the visitor's anonymous visit, later than the allowed lateness.
    let mut late = track("v-late", "product_clicked", "v-anon", t + 7 * MIN, 0);
    late.received_at = spoor_pipeline::timefmt::format_ms(t + 102 * MIN);
    // In one run, and in two (the closed session known again from its file after a restart).
    let one = tempfile::tempdir().unwrap();
    append(one.path(), &before);
    append(one.path(), std::slice::from_ref(&late));
    run(one.path(), 1);
    let two = tempfile::tempdir().unwrap();
    append(two.path(), &before);
    run(two.path(), 1);
    append(two.path(), &[late]);
    run(two.path(), 1);
    for dir in [one.path(), two.path()] {
        let rows = raw_rows(dir);
        let id = session_of(&rows, "v-1").unwrap();
        assert_eq!(session_of(&rows, "v-late").as_ref(), Some(&id), "{rows:?}");
        let sessions = spoor_pipeline::sessionize::read(dir).unwrap();
        let visit: Vec<_> = sessions.iter().filter(|s| s.id_text() == id).collect();
        assert_eq!(visit.len(), 1, "{visit:?}");
        assert_eq!(
            (visit[0].event_count, visit[0].person_id.as_str()),
            (3, "v-user")
        );
        assert_eq!(session_rows_with_id(dir, &id), 1);
    }
}

#[test]
fn a_reopened_session_still_live_is_in_the_open_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let t = t0();
    append(
        dir.path(),
        &[
            track("s-1", "page_viewed", "a1", t, 0),
            track("s-2", "page_viewed", "a1", t + 10 * MIN, 0),
            // The watermark goes to t + 40.5m: a1's session (ends t + 10m) closes.
            track("busy", "page_viewed", "busy", t + 100 * MIN + MIN / 2, 0),
        ],
    );
    run(dir.path(), 10);
    let mut late = track("s-late", "page_viewed", "a1", t + 39 * MIN, 0);
    late.received_at = spoor_pipeline::timefmt::format_ms(t + 101 * MIN);
    append(dir.path(), &[late]);
    run(dir.path(), 10);
    // Re-opened, it now ends at t + 39m: live until the watermark passes t + 69m.
    let sessions = spoor_pipeline::sessionize::read(dir.path()).unwrap();
    let a1: Vec<_> = sessions.iter().filter(|s| s.person_id == "a1").collect();
    assert_eq!(a1.len(), 1, "{a1:?}");
    assert_eq!((a1[0].event_count, a1[0].end_time), (3, t + 39 * MIN));
    assert_eq!(session_rows_with_id(dir.path(), &a1[0].id_text()), 1);
    let open =
        spoor_pipeline::sink::parquet_file::read(&dir.path().join("tables/sessions/open.parquet"))
            .unwrap();
    assert!(open.iter().any(|b| {
        (0..b.num_rows())
            .any(|r| spoor_pipeline::columns::text(b, "person_id", r).as_deref() == Some("a1"))
    }));
}

#[test]
fn late_events_give_a_clean_run_s_outputs_across_restarts_and_replays() {
    let mut events = mixed_traffic(6);
    events.extend(too_late_traffic());
    let clean = tempfile::tempdir().unwrap();
    append(clean.path(), &events);
    run(clean.path(), 10_000);
    let expected = outputs(clean.path());
    assert!(expected.metrics.late_events >= 4);
    assert!(expected.raw.iter().all(|r| r.session_id.is_some()));

    let stepped = tempfile::tempdir().unwrap();
    append(stepped.path(), &events);
    run_stepped(stepped.path(), 37);
    assert_same(&outputs(stepped.path()), &expected);

    spoor_pipeline::replay::replay(stepped.path(), 0, config(50), |_| {}).unwrap();
    assert_same(&outputs(stepped.path()), &expected);
}

/// How many rows of the session table's files hold session `id`.
fn session_rows_with_id(data_dir: &std::path::Path, id: &str) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(data_dir.join("tables/sessions")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            for batch in spoor_pipeline::sink::parquet_file::read(&path).unwrap() {
                n += (0..batch.num_rows())
                    .filter(|&r| {
                        spoor_pipeline::columns::text(&batch, "session_id", r).as_deref()
                            == Some(id)
                    })
                    .count();
            }
        }
    }
    n
}

fn raw_files(data_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for dir in spoor_pipeline::range_file::walk_dirs(&data_dir.join("raw")).unwrap() {
        out.extend(
            spoor_pipeline::range_file::list(&dir)
                .unwrap()
                .into_iter()
                .map(|f| f.path),
        );
    }
    out
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

/// Consumes the log of `data_dir` in ranges of `batch` records by a fresh runner each time,
/// with leftovers of a crashed range (files past the committed offset) planted before every
/// restart. Each runner writes two ranges; every other one dies before it commits them,
/// leaving their real outputs behind.
fn run_stepped(data_dir: &std::path::Path, batch: usize) {
    let never = spoor_pipeline::PipelineConfig {
        commit_interval_ms: u64::MAX,
        ..config(batch)
    };
    for round in 0.. {
        let runner = spoor_pipeline::Runner::open(data_dir, config(batch)).unwrap();
        let at = runner.offset();
        let junk = data_dir.join("raw/date=2026-05-03/hour=10/event=page_viewed/source=web");
        std::fs::create_dir_all(&junk).unwrap();
        std::fs::write(
            junk.join(spoor_pipeline::range_file::file_name(at, at + 5, "parquet")),
            b"torn",
        )
        .unwrap();
        drop(runner);
        let mut runner = spoor_pipeline::Runner::open(data_dir, never.clone()).unwrap();
        if runner.step().unwrap() + runner.step().unwrap() == 0 {
            runner.compact().unwrap();
            break;
        }
        if round % 2 == 1 {
            runner.commit().unwrap();
        }
    }
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

    // Same log, consumed in small ranges by a fresh runner each time, crashing at times.
    let stepped = tempfile::tempdir().unwrap();
    append(stepped.path(), &events);
    run_stepped(stepped.path(), 97);
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
