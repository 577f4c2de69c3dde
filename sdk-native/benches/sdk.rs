//! SDK benchmarks: the cost of `track()` on the calling thread, and the
//! SQLite queue's throughput beside plain rusqlite insert loops of the same rows.
//!
//! `cargo bench -p spoor --bench sdk [events per round, default 100000]`.
//! Every measurement runs 5 rounds; the table shows the best and the median
//! round (the machine is shared, so the best round is the least disturbed).
//! Prints a Markdown table for BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use spoor::{Options, Spoor, Track};
use spoor_core::{
    Client, Config, ConsentMode, MemoryStorage, QueuedEvent, SqliteStorage, Storage, Timestamp,
    WriteBatch,
};

const T0: u64 = 1_777_802_400_000;

/// Rounds per measurement.
const ROUNDS: usize = 5;

fn event(n: usize) -> Track {
    Track::new("product_clicked")
        .property("productId", "p123")
        .property("category", "shoes")
        .property("position", n as u64)
}

/// Runs `round` ROUNDS times; returns the best and the median elapsed time.
fn rounds(mut round: impl FnMut() -> Duration) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..ROUNDS).map(|_| round()).collect();
    times.sort();
    (times[0], times[ROUNDS / 2])
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

struct Row {
    what: String,
    best: Duration,
    median: Duration,
    ops_per_sec: f64,
    note: String,
}

fn row(
    what: &str,
    ops: usize,
    (best, median): (Duration, Duration),
    note: impl Into<String>,
) -> Row {
    Row {
        what: what.to_string(),
        best: best / ops as u32,
        median: median / ops as u32,
        ops_per_sec: ops as f64 / best.as_secs_f64(),
        note: note.into(),
    }
}

fn unbounded_config() -> Config {
    Config {
        consent_mode: ConsentMode::GrantedUntilDecided,
        max_queue_events: usize::MAX,
        max_queue_bytes: usize::MAX,
        ..Config::default()
    }
}

/// The calling thread's cost of `Spoor::track` (read the clock, hand the call to the task).
fn track_calling_thread(n: usize, rows: &mut Vec<Row>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    // Nobody listens on port 9: sends fail fast and back off; the queue
    // (default bound 10,000) drops the oldest in the task, not on the caller.
    let mut options = Options::new("http://127.0.0.1:9", "bench");
    options.channel_capacity = n * 2;
    let spoor = Spoor::start(options).unwrap();

    let best_median = rounds(|| {
        timed(|| {
            for i in 0..n {
                black_box(event(i));
            }
        })
    });
    rows.push(row(
        "build the `Track` value only (baseline)",
        n,
        best_median,
        "name + 3 properties",
    ));

    let best_median = rounds(|| {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(Track, Timestamp)>(n * 2);
        let done = Arc::new(AtomicBool::new(false));
        let drain_done = Arc::clone(&done);
        let drain = std::thread::spawn(move || {
            while !drain_done.load(Ordering::Relaxed) || !rx.is_empty() {
                while rx.try_recv().is_ok() {}
                std::thread::yield_now();
            }
        });
        let elapsed = timed(|| {
            for i in 0..n {
                tx.try_send((event(i), Timestamp::from_millis(T0))).unwrap();
            }
        });
        done.store(true, Ordering::Relaxed);
        drain.join().unwrap();
        elapsed
    });
    rows.push(row(
        "build + bare tokio `mpsc::try_send`, busy consumer thread (baseline)",
        n,
        best_median,
        "no clock read",
    ));

    let best_median = rounds(|| {
        let elapsed = timed(|| {
            for i in 0..n {
                spoor.track(event(i)).unwrap();
            }
        });
        // Let the task catch up so every round starts from an empty channel.
        rt.block_on(spoor.stats()).unwrap();
        elapsed
    });
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        spoor.track(event(i)).unwrap();
        samples.push(started.elapsed());
    }
    samples.sort();
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    rows.push(row(
        "**`Spoor::track()` on the calling thread** (build + clock + hand-off)",
        n,
        best_median,
        format!("single calls: p50 {p50:?}, p99 {p99:?}; target < 2 µs"),
    ));
    let stats = rt.block_on(spoor.stats()).unwrap();
    assert_eq!(stats.dropped_overloaded, 0, "no call dropped");
    rt.block_on(spoor.shutdown(Duration::ZERO)).unwrap();
}

/// What the background task does per event: the core's `track` on a memory queue.
fn core_track(n: usize, rows: &mut Vec<Row>) {
    let best_median = rounds(|| {
        let now = Timestamp::from_millis(T0);
        let mut client =
            Client::new(unbounded_config(), MemoryStorage::new(), [1; 32], now).unwrap();
        timed(|| {
            for i in 0..n {
                client.track(event(i), now).unwrap();
            }
            client.commit().unwrap();
        })
    });
    rows.push(row(
        "core `Client::track` + commit, memory queue (the task's work per event)",
        n,
        best_median,
        "UUIDv7, session, context, JSON, queue",
    ));
}

fn rows_for_sqlite(n: usize) -> Vec<QueuedEvent> {
    let now = Timestamp::from_millis(T0);
    let mut client = Client::new(unbounded_config(), MemoryStorage::new(), [2; 32], now).unwrap();
    for i in 0..n {
        client.track(event(i), now).unwrap();
    }
    client.commit().unwrap();
    client.storage().events().cloned().collect()
}

fn open_plain(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE q (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, category TEXT NOT NULL,
                         queued_at INTEGER NOT NULL, body TEXT NOT NULL);",
    )
    .unwrap();
    conn
}

fn insert_plain(conn: &rusqlite::Connection, e: &QueuedEvent) {
    conn.prepare_cached(
        "INSERT INTO q (seq, event_id, category, queued_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .unwrap()
    .execute(rusqlite::params![
        e.seq as i64,
        e.event_id,
        e.category,
        e.queued_at.as_millis() as i64,
        e.body
    ])
    .unwrap();
}

/// SQLite queue throughput beside plain rusqlite loops writing the same rows.
fn sqlite_queue(n: usize, rows: &mut Vec<Row>) {
    let events = rows_for_sqlite(n);
    let mean_body = events.iter().map(|e| e.body.len()).sum::<usize>() / events.len();
    let dir = tempfile::tempdir().unwrap();
    let mut file = 0;
    let mut fresh = |name: &str| {
        file += 1;
        dir.path().join(format!("{name}-{file}.db"))
    };

    let few = &events[..n / 10];
    let best_median = rounds(|| {
        let conn = open_plain(&fresh("plain-autocommit"));
        timed(|| few.iter().for_each(|e| insert_plain(&conn, e)))
    });
    rows.push(row(
        "plain rusqlite insert loop, one transaction per row (baseline)",
        few.len(),
        best_median,
        format!("{} rows per round; WAL, synchronous=NORMAL", few.len()),
    ));

    let best_median = rounds(|| {
        let mut conn = open_plain(&fresh("plain-tx"));
        timed(|| {
            let tx = conn.transaction().unwrap();
            events.iter().for_each(|e| insert_plain(&tx, e));
            tx.commit().unwrap();
        })
    });
    rows.push(row(
        "plain rusqlite insert loop, all rows in one transaction (baseline)",
        n,
        best_median,
        format!("same rows: mean event {mean_body} B"),
    ));

    for per_commit in [100usize, 1_000] {
        let appends: Vec<WriteBatch> = events
            .chunks(per_commit)
            .map(|chunk| WriteBatch {
                append: chunk.to_vec(),
                ..WriteBatch::default()
            })
            .collect();
        let removes: Vec<WriteBatch> = events
            .chunks(100)
            .map(|chunk| WriteBatch {
                remove: chunk.iter().map(|e| e.seq).collect(),
                ..WriteBatch::default()
            })
            .collect();
        let mut delete_times = Vec::new();
        let best_median = rounds(|| {
            let mut storage = SqliteStorage::open(fresh("spoor")).unwrap();
            let elapsed = timed(|| appends.iter().for_each(|b| storage.apply(b).unwrap()));
            delete_times.push(timed(|| {
                removes.iter().for_each(|b| storage.apply(b).unwrap())
            }));
            elapsed
        });
        rows.push(row(
            &format!("**`SqliteStorage::apply`: appends, {per_commit} events per transaction**"),
            n,
            best_median,
            "target ≥ 100,000 events/s",
        ));
        delete_times.sort();
        rows.push(row(
            &format!("`SqliteStorage::apply`: deletes (acks), 100 per transaction, after {per_commit}/tx appends"),
            n,
            (delete_times[0], delete_times[ROUNDS / 2]),
            "",
        ));
    }

    let best_median = rounds(|| {
        let now = Timestamp::from_millis(T0);
        let storage = SqliteStorage::open(fresh("client")).unwrap();
        let mut client = Client::new(unbounded_config(), storage, [3; 32], now).unwrap();
        let elapsed = timed(|| {
            for i in 0..n {
                client.track(event(i), now).unwrap();
                if i % 1_000 == 999 {
                    client.commit().unwrap();
                }
            }
            client.commit().unwrap();
        });
        assert_eq!(client.storage().len().unwrap(), n as u64);
        elapsed
    });
    rows.push(row(
        "core `Client::track` + SQLite commit every 1,000 events (whole path)",
        n,
        best_median,
        "building events + queue + disk",
    ));
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rows = Vec::new();
    track_calling_thread(n, &mut rows);
    core_track(n, &mut rows);
    sqlite_queue(n, &mut rows);
    println!(
        "| measurement | per op (best round) | per op (median round) | ops/s (best) | notes |"
    );
    println!("|---|---:|---:|---:|---|");
    for r in rows {
        println!(
            "| {} | {:.2} µs | {:.2} µs | {:.0} | {} |",
            r.what,
            r.best.as_nanos() as f64 / 1_000.0,
            r.median.as_nanos() as f64 / 1_000.0,
            r.ops_per_sec,
            r.note
        );
    }
}
