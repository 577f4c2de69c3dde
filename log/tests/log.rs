//! Behaviour of the segment log on real files.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::mpsc;

use spoor_log::{EventLog, GroupCommit, LogOptions, LogReader};

fn read_all(dir: &std::path::Path, from: u64) -> Vec<(u64, Vec<u8>)> {
    let mut reader = LogReader::open(dir, from).unwrap();
    let mut out = Vec::new();
    while let Some(r) = reader.next_record().unwrap() {
        out.push(r);
    }
    out
}

#[test]
fn torn_tail_is_truncated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
        log.append(&[b"first".as_slice(), b"second"]).unwrap();
        log.sync().unwrap();
    }
    let segment = dir.path().join("00000000000000000000.log");
    let whole = std::fs::metadata(&segment).unwrap().len();
    // A third record cut in the middle of its payload, as a crash mid-write leaves it.
    let mut framed = Vec::new();
    spoor_log::record::encode_into(&mut framed, b"third-record-payload");
    let mut f = OpenOptions::new().append(true).open(&segment).unwrap();
    f.write_all(&framed[..framed.len() - 5]).unwrap();
    drop(f);

    let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.repaired_bytes(), framed.len() as u64 - 5);
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), whole);
    assert_eq!(log.next_offset(), 2);
    assert_eq!(log.append(&[b"third"]).unwrap(), 2..3);
    log.sync().unwrap();
    let records: Vec<Vec<u8>> = read_all(dir.path(), 0).into_iter().map(|r| r.1).collect();
    assert_eq!(
        records,
        vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
    );
}

#[test]
fn segments_roll_and_readers_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        segment_bytes: 100,
        fsync: false,
    };
    let mut log = EventLog::open(dir.path(), options.clone()).unwrap();
    for i in 0..50u32 {
        log.append(&[format!("record-{i}").into_bytes()]).unwrap();
    }
    log.sync().unwrap();
    let segments = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(segments > 5, "expected many segments, got {segments}");
    let all = read_all(dir.path(), 0);
    assert_eq!(all.len(), 50);
    for (i, (offset, payload)) in all.iter().enumerate() {
        assert_eq!(*offset, i as u64);
        assert_eq!(payload, format!("record-{i}").as_bytes());
    }
    let from_middle = read_all(dir.path(), 37);
    assert_eq!(from_middle.first().unwrap().0, 37);
    assert_eq!(from_middle.len(), 13);
    drop(log);
    let reopened = EventLog::open(dir.path(), options).unwrap();
    assert_eq!(reopened.next_offset(), 50);
}

#[test]
fn reader_tails_new_appends() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
    let mut reader = LogReader::open(dir.path(), 0).unwrap();
    assert_eq!(reader.next_record().unwrap(), None);
    log.append(&[b"a"]).unwrap();
    log.sync().unwrap();
    assert_eq!(reader.next_record().unwrap(), Some((0, b"a".to_vec())));
    assert_eq!(reader.next_record().unwrap(), None);
    log.append(&[b"b", b"c"]).unwrap();
    assert_eq!(reader.next_record().unwrap(), Some((1, b"b".to_vec())));
    assert_eq!(reader.next_record().unwrap(), Some((2, b"c".to_vec())));
}

#[test]
fn group_commit_gives_every_request_its_own_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
    let commit = std::sync::Arc::new(GroupCommit::start(log));
    let (tx, rx) = mpsc::channel();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let commit = std::sync::Arc::clone(&commit);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let records = vec![
                        format!("{t}-{i}-a").into_bytes(),
                        format!("{t}-{i}-b").into_bytes(),
                    ];
                    let tx = tx.clone();
                    commit.append(records, Box::new(move |r| tx.send((t, i, r)).unwrap()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(tx);
    let answers: Vec<_> = rx.iter().collect();
    assert_eq!(answers.len(), 400);
    let records = read_all(dir.path(), 0);
    assert_eq!(records.len(), 800);
    for (t, i, result) in answers {
        let range = result.unwrap();
        assert_eq!(range.end - range.start, 2);
        assert_eq!(
            records[range.start as usize].1,
            format!("{t}-{i}-a").into_bytes()
        );
        assert_eq!(
            records[range.start as usize + 1].1,
            format!("{t}-{i}-b").into_bytes()
        );
    }
    let durable = commit.durable_offset();
    assert_eq!(durable.load(std::sync::atomic::Ordering::Acquire), 800);
}
