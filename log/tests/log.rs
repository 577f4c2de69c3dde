//! Behaviour of the segment log on real files.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::sync::mpsc;

use spoor_log::record::{Decoded, decode};

use spoor_log::{EventLog, GroupCommit, LogOptions, LogReader, UNZEROED_GROUP_BYTES};

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
    let whole = records_end(&std::fs::read(&segment).unwrap());
    assert!(
        std::fs::metadata(&segment).unwrap().len() > whole,
        "zeroed space follows the records"
    );
    // A third record cut in the middle of its payload, as a crash mid-write
    // leaves it in the zeroed space.
    let mut framed = Vec::new();
    spoor_log::record::encode_into(&mut framed, b"third-record-payload");
    let f = OpenOptions::new().write(true).open(&segment).unwrap();
    f.write_all_at(&framed[..framed.len() - 5], whole).unwrap();
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

/// Where the whole records at the start of a segment's bytes end.
fn records_end(bytes: &[u8]) -> u64 {
    let mut pos = 0;
    while let Decoded::Record(_, len) = decode(&bytes[pos..]) {
        pos += len;
    }
    pos as u64
}

#[test]
fn a_torn_tail_at_the_end_of_the_file_is_truncated_too() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        preallocate_bytes: 0,
        ..LogOptions::default()
    };
    {
        let mut log = EventLog::open(dir.path(), options.clone()).unwrap();
        log.append(&[b"first".as_slice()]).unwrap();
        log.sync().unwrap();
    }
    let segment = dir.path().join("00000000000000000000.log");
    let whole = std::fs::metadata(&segment).unwrap().len();
    let mut framed = Vec::new();
    spoor_log::record::encode_into(&mut framed, b"second");
    let f = OpenOptions::new().write(true).open(&segment).unwrap();
    f.write_all_at(&framed[..10], whole).unwrap();
    drop(f);
    let log = EventLog::open(dir.path(), options).unwrap();
    assert_eq!(log.repaired_bytes(), 10);
    assert_eq!(log.next_offset(), 1);
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), whole);
}

#[test]
fn empty_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
    assert!(log.append(&[b"a".as_slice(), b""]).is_err());
    assert_eq!(log.next_offset(), 0);
}

#[test]
fn finished_segments_end_with_their_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        segment_bytes: 4096,
        preallocate_bytes: 1024,
        ..LogOptions::default()
    };
    let mut log = EventLog::open(dir.path(), options).unwrap();
    for i in 0..200u32 {
        log.append(&[format!("record-{i:04}-of-a-finished-segment").into_bytes()])
            .unwrap();
    }
    log.sync().unwrap();
    let mut segments: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    assert!(segments.len() > 1);
    for finished in &segments[..segments.len() - 1] {
        let bytes = std::fs::read(finished).unwrap();
        assert_eq!(records_end(&bytes), bytes.len() as u64, "{finished:?}");
    }
    let last = std::fs::read(segments.last().unwrap()).unwrap();
    assert_eq!(
        last.len() % 1024,
        0,
        "the last segment is preallocated in steps"
    );
    assert_eq!(read_all(dir.path(), 0).len(), 200);
}

#[test]
fn segments_roll_and_readers_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        segment_bytes: 100,
        fsync: false,
        ..LogOptions::default()
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
fn a_reader_keeps_up_across_preallocated_steps_and_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        segment_bytes: 4096,
        preallocate_bytes: 1024,
        fsync: false,
    };
    let mut log = EventLog::open(dir.path(), options).unwrap();
    let mut reader = LogReader::open(dir.path(), 0).unwrap();
    for i in 0..300u64 {
        let payload = format!("record-{i}-{}", "x".repeat((i % 97) as usize)).into_bytes();
        assert_eq!(
            log.append(std::slice::from_ref(&payload)).unwrap(),
            i..i + 1
        );
        assert_eq!(reader.next_record().unwrap(), Some((i, payload)));
        assert_eq!(reader.next_record().unwrap(), None);
    }
}

#[test]
fn large_groups_are_written_past_the_zeroed_space_and_small_ones_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        segment_bytes: 1 << 20,
        preallocate_bytes: 64 * 1024,
        fsync: false,
    };
    let segment = dir.path().join("00000000000000000000.log");
    let mut log = EventLog::open(dir.path(), options).unwrap();
    let mut reader = LogReader::open(dir.path(), 0).unwrap();
    // 40 KB of records at once: no zeroes ahead.
    let large: Vec<Vec<u8>> = (0..160u8).map(|i| vec![b'a' + i % 26; 250]).collect();
    assert!(large.iter().map(Vec::len).sum::<usize>() as u64 >= UNZEROED_GROUP_BYTES);
    assert_eq!(log.append(&large).unwrap(), 0..160);
    let after_large = std::fs::metadata(&segment).unwrap().len();
    assert_eq!(after_large, records_end(&std::fs::read(&segment).unwrap()));
    // A small group gets zeroed space ahead of it, up to the next step.
    assert_eq!(log.append(&[b"small".as_slice()]).unwrap(), 160..161);
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), 64 * 1024);
    // Another large group lands after the small one, inside the zeroed space and past it.
    assert_eq!(log.append(&large).unwrap(), 161..321);
    let mut expected: Vec<Vec<u8>> = large.clone();
    expected.push(b"small".to_vec());
    expected.extend(large.iter().cloned());
    for (offset, payload) in expected.into_iter().enumerate() {
        assert_eq!(
            reader.next_record().unwrap(),
            Some((offset as u64, payload))
        );
    }
    assert_eq!(reader.next_record().unwrap(), None);
}

#[test]
fn group_commit_gives_every_request_its_own_offsets() {
    let dir = tempfile::tempdir().unwrap();
    // Small segments, so groups are written across rolls while others are being synced.
    let options = LogOptions {
        segment_bytes: 2048,
        ..LogOptions::default()
    };
    let log = EventLog::open(dir.path(), options).unwrap();
    let commit = std::sync::Arc::new(GroupCommit::start(log));
    let durable = commit.durable_offset();
    let (tx, rx) = mpsc::channel();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let commit = std::sync::Arc::clone(&commit);
            let durable = std::sync::Arc::clone(&durable);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let records = vec![
                        format!("{t}-{i}-a").into_bytes(),
                        format!("{t}-{i}-b").into_bytes(),
                    ];
                    let tx = tx.clone();
                    let durable = std::sync::Arc::clone(&durable);
                    commit.append(
                        records,
                        Box::new(move |r| {
                            // Durable through at least this request's records when it is answered.
                            let seen = durable.load(std::sync::atomic::Ordering::Acquire);
                            tx.send((t, i, r, seen)).unwrap();
                        }),
                    );
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
    // Answered in the order written: each answer's records come after the one before.
    let starts: Vec<u64> = answers
        .iter()
        .map(|(_, _, r, _)| r.as_ref().unwrap().start)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    for (t, i, result, seen) in answers {
        let range = result.unwrap();
        assert!(
            seen >= range.end,
            "answered before durable: {range:?} at {seen}"
        );
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
    assert_eq!(durable.load(std::sync::atomic::Ordering::Acquire), 800);
}

/// The framing read by a reader written apart from the log's: whole records with a matching
/// checksum, from the start, up to the first that is not one.
fn reference_records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let (Some(len), Some(crc)) = (rest.get(..4), rest.get(4..8)) {
        let len = u32::from_le_bytes(len.try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(crc.try_into().unwrap());
        let Some(payload) = rest.get(8..8 + len) else {
            break;
        };
        if len == 0 || crc32fast::hash(payload) != crc {
            break;
        }
        out.push(payload.to_vec());
        rest = &rest[8 + len..];
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever a crash or a bad disk does to a segment (cut it anywhere, change any byte,
    /// leave bytes in the space zeroed ahead), opening the log keeps exactly the whole records
    /// before the damage, and records appended after carry on from there.
    #[test]
    fn damage_to_a_segment_loses_only_what_follows_it(
        payloads in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 1..48), 1..10),
        kind in 0usize..3,
        at in proptest::prelude::any::<usize>(),
        byte in proptest::prelude::any::<u8>(),
        garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            log.append(&refs).unwrap();
            log.sync().unwrap();
        }
        let segment = dir.path().join("00000000000000000000.log");
        let mut bytes = std::fs::read(&segment).unwrap();
        let end = records_end(&bytes) as usize;
        match kind {
            0 => bytes.truncate(at % (end + 1)),
            1 => {
                let i = at % end;
                bytes[i] ^= byte.max(1);
            }
            _ => {
                let i = end + at % 64;
                bytes.splice(i..i + garbage.len(), garbage.iter().copied());
            }
        }
        std::fs::write(&segment, &bytes).unwrap();
        let mut expected = reference_records(&bytes);
        proptest::prop_assert!(payloads.starts_with(&expected), "kept a record never written");

        let mut log = EventLog::open(dir.path(), LogOptions::default()).unwrap();
        proptest::prop_assert_eq!(log.next_offset(), expected.len() as u64);
        log.append(&[b"after".as_slice()]).unwrap();
        log.sync().unwrap();
        drop(log);
        expected.push(b"after".to_vec());
        let got: Vec<Vec<u8>> = read_all(dir.path(), 0).into_iter().map(|r| r.1).collect();
        proptest::prop_assert_eq!(got, expected);
    }
}
