//! Clients that stall: idle and slow-header connections are closed, a stalled
//! body is answered 408, and a body that keeps arriving is taken however long
//! it takes. Raw TCP against a real relay on a loopback port.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TestRelay, WRITE_KEY};

const HEADER_MS: u64 = 1000;
const BODY_IDLE_MS: u64 = 1000;

const EVENT: &str = r#"{"eventId":"0190a8f0-7c1e-7a3b-9b1e-3f2d4c5b6a79","eventName":"product_clicked","userId":"u456","properties":{"productId":"p123","category":"shoes","surface":"home"}}"#;

fn relay() -> TestRelay {
    TestRelay::start_with(|c| {
        c.timeouts.header_ms = HEADER_MS;
        c.timeouts.body_idle_ms = BODY_IDLE_MS;
    })
}

fn connect(relay: &TestRelay) -> TcpStream {
    let stream = TcpStream::connect(relay.addr).unwrap();
    // Far beyond the relay's timeouts: a test that hangs here fails instead.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

fn head(content_length: usize) -> String {
    format!(
        "POST /api/events HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {WRITE_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    )
}

/// Everything the relay sends until it closes the connection, and how long that took.
fn read_to_close(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .expect("the relay closes the connection before the test's read timeout");
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

/// Reads one response with a `Content-Length` body off a kept-alive connection.
fn read_response(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        out.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    let length: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    out.extend_from_slice(&body);
    String::from_utf8(out).unwrap()
}

/// The connection was closed by the timeout, not at once. Half the timeout:
/// the test's clock may start a little after the relay's on a loaded machine.
fn at_least_the_timeout(elapsed: Duration, ms: u64) {
    assert!(
        elapsed >= Duration::from_millis(ms / 2),
        "closed after {elapsed:?}, long before the {ms} ms timeout"
    );
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let relay = relay();
    let mut stream = connect(&relay);
    let (sent, elapsed) = read_to_close(&mut stream);
    assert_eq!(sent, "");
    at_least_the_timeout(elapsed, HEADER_MS);
}

#[test]
fn headers_that_trickle_in_are_cut_off() {
    let relay = relay();
    let mut stream = connect(&relay);
    let started = Instant::now();
    // A byte every 100 ms keeps the socket busy, but the head never ends in
    // time: once the relay has closed the connection, writes fail.
    let mut cut_off = false;
    for byte in head(EVENT.len()).bytes() {
        std::thread::sleep(Duration::from_millis(100));
        if stream.write_all(&[byte]).is_err() {
            cut_off = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    assert!(cut_off, "the relay kept a trickling head open for 5 s");
    at_least_the_timeout(started.elapsed(), HEADER_MS);
    assert!(relay.log().is_empty());
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_its_answer() {
    let relay = relay();
    let mut stream = connect(&relay);
    stream.write_all(head(EVENT.len()).as_bytes()).unwrap();
    stream.write_all(EVENT.as_bytes()).unwrap();
    let answer = read_response(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (rest, elapsed) = read_to_close(&mut stream);
    assert_eq!(rest, "");
    at_least_the_timeout(elapsed, HEADER_MS);
    assert_eq!(relay.log().len(), 1);
}

#[test]
fn a_stalled_body_is_408_and_nothing_is_logged() {
    let relay = relay();
    let mut stream = connect(&relay);
    stream.write_all(head(EVENT.len()).as_bytes()).unwrap();
    stream
        .write_all(&EVENT.as_bytes()[..EVENT.len() / 2])
        .unwrap();
    let (answer, elapsed) = read_to_close(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    at_least_the_timeout(elapsed, BODY_IDLE_MS);
    assert!(relay.log().is_empty());
    assert!(relay.dead_letters().is_empty());
}

#[test]
fn a_body_that_keeps_arriving_is_taken_however_long_it_takes() {
    let relay = relay();
    let mut stream = connect(&relay);
    let started = Instant::now();
    stream.write_all(head(EVENT.len()).as_bytes()).unwrap();
    // Four parts, each well within the idle timeout of the one before; the
    // whole body takes longer than the timeout.
    for part in EVENT.as_bytes().chunks(EVENT.len().div_ceil(4)) {
        stream.write_all(part).unwrap();
        std::thread::sleep(Duration::from_millis(BODY_IDLE_MS / 3));
    }
    let answer = read_response(&mut stream);
    assert!(started.elapsed() > Duration::from_millis(BODY_IDLE_MS));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(relay.log().len(), 1);
}
