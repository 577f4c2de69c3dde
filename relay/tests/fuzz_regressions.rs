//! The fuzz harness (`fuzz/src/lib.rs`, the same code cargo-fuzz runs) on the
//! seed corpus and on every input that once broke it, so a fixed bug stays
//! fixed without nightly Rust. See docs/fuzzing.md.

#[path = "../../fuzz/src/lib.rs"]
mod harness;

#[path = "../../fuzz/src/seeds.rs"]
mod seeds;

fn run(control: u8, route: u8, body: &str) {
    let mut input = vec![control, route];
    input.extend_from_slice(body.as_bytes());
    harness::ingest_one(&input);
}

#[test]
fn seed_corpus_keeps_every_promise() {
    for (name, input) in seeds::seeds(env!("CARGO_MANIFEST_DIR"), "ingest", 10) {
        eprintln!("seed {name}");
        harness::ingest_one(&input);
    }
}

/// Found by reading enrich.rs, confirmed with this harness: skew correction
/// `timestamp + (receivedAt - sentAt)` overflows `time`'s range (year 9999)
/// and panics ("resulting value is out of range") instead of refusing or
/// flagging the event. Over HTTP the connection drops without an answer, so
/// the event is in neither log and an SDK retries it forever.
#[test]
fn skew_correction_past_year_9999_does_not_panic() {
    run(
        0x00,
        0x00,
        r#"{"eventId":"1","eventName":"signed_up","userId":"u","timestamp":"9999-12-31T23:59:59Z","sentAt":"0000-01-01T00:00:00Z"}"#,
    );
    // The same through a batch, where sentAt comes from the batch.
    run(
        0x01,
        0x00,
        r#"{"batch":[{"eventId":"1","eventName":"signed_up","userId":"u","timestamp":"9999-12-31T23:59:59Z"}],"sentAt":"1000-01-01T00:00:00Z"}"#,
    );
}

/// Found by the fuzzer (30 Nov): an object key `$serde_json::private::RawValue`
/// makes serde_json (with the `raw_value` feature the pipeline enables) read
/// the object as the raw JSON text of its value. A refused event holding one
/// was dead-lettered as a JSON value whose sorted keys put it first, and the
/// dead letter did not read back; in `properties`, `traits` or `context` of
/// an accepted event it would have read back as something else.
#[test]
fn serde_jsons_reserved_key_neither_breaks_a_dead_letter_nor_enters_a_record() {
    // Refused for its type, with the key at the top level.
    run(
        0x01,
        0x87,
        r#"{"batch":[{"type":"rtack","$serde_json::private::RawValue":"u1","traits":{"email":"x@y.z"}}],"writeKey":"k"}"#,
    );
    // In the kept parts: refused, and dead-lettered so it reads back.
    for kept in [
        r#"{"eventId":"1","eventName":"signed_up","userId":"u","context":{"$serde_json::private::RawValue":"1"}}"#,
        r#"{"eventId":"1","eventName":"signed_up","userId":"u","properties":{"a":{"\u0024serde_json::private::RawValue":"x"}}}"#,
    ] {
        run(0x00, 0x00, kept);
        run(0x04, 0x00, kept);
    }
}
