//! Runs the example service binary against a real relay on loopback: two
//! requests, then Ctrl-C; the events must be in the relay's log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use spoor_log::LogReader;
use spoor_relay::Relay;
use spoor_relay::config::{RelayConfig, SourceConfig};

const WRITE_KEY: &str = "example-write-key";

#[test]
fn the_shop_tracks_signups_and_orders_into_the_relay() {
    let relay_dir = tempfile::tempdir().unwrap();
    let mut config = RelayConfig {
        data_dir: relay_dir.path().to_path_buf(),
        ..RelayConfig::default()
    };
    config.sources.push(SourceConfig::new("server", WRITE_KEY));
    let relay = Relay::open(config).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let relay_addr = listener.local_addr().unwrap();
    rt.spawn(relay.serve(relay.router(), listener, std::future::pending()));

    // A free port for the shop.
    let shop_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let queue_dir = tempfile::tempdir().unwrap();
    let mut shop = Command::new(env!("CARGO_BIN_EXE_spoor-example-backend"))
        .env("SPOOR_ENDPOINT", format!("http://{relay_addr}"))
        .env("SPOOR_WRITE_KEY", WRITE_KEY)
        .env("SPOOR_QUEUE", queue_dir.path().join("queue.db"))
        .env("LISTEN", shop_addr.to_string())
        .env("SPOOR_SHUTDOWN_SECS", "60")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(shop.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    assert!(banner.starts_with("shop on"), "{banner}");

    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: &str| {
        http.post(format!("http://{shop_addr}{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        post(
            "/signup",
            r#"{"userId":"u1","email":"a@example.com","plan":"pro"}"#
        ),
        201
    );
    assert_eq!(
        post(
            "/orders",
            r#"{"userId":"u1","orderId":"o-1","revenue":42.5,"currency":"EUR","items":2}"#
        ),
        201
    );

    // Ctrl-C: the service stops and spoor sends what is queued before exiting.
    let pid = i32::try_from(shop.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = wait_with_timeout(&mut shop, Duration::from_secs(90));
    assert!(status.success(), "{status:?}");
    let summary = lines.next().unwrap().unwrap();
    assert!(
        summary.starts_with("delivered 3 events, 0 left"),
        "{summary}"
    );

    let mut reader = LogReader::open(&spoor_relay::log_dir(relay_dir.path()), 0).unwrap();
    let mut records = Vec::new();
    while let Some((_, payload)) = reader.next_record().unwrap() {
        records.push(serde_json::from_slice::<serde_json::Value>(&payload).unwrap());
    }
    let kinds: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["type"].as_str().unwrap(),
                r["eventName"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        kinds,
        ["identify ", "track signed_up", "track purchase_completed"]
    );
    assert!(records.iter().all(|r| r["userId"] == "u1"));
    assert_eq!(records[0]["traits"]["email"], "a@example.com");
    assert_eq!(records[2]["properties"]["revenue"], 42.5);
    assert!(
        records[2]["flags"].is_null(),
        "valid against the schema: {}",
        records[2]
    );
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            panic!("the shop did not stop within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
