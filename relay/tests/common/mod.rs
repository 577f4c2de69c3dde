//! A real relay on a loopback port, started in-process for HTTP tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use spoor_log::LogReader;
use spoor_relay::config::{RelayConfig, SourceConfig};
use spoor_relay::{BackgroundRelay, Relay};

pub const WRITE_KEY: &str = "test-write-key";
pub const READ_KEY: &str = "test-read-key";

pub struct TestRelay {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    relay: Option<BackgroundRelay>,
    _tmp: Option<tempfile::TempDir>,
}

pub fn config(data_dir: &Path) -> RelayConfig {
    let mut config = RelayConfig {
        data_dir: data_dir.to_path_buf(),
        read_key: Some(READ_KEY.into()),
        ..RelayConfig::default()
    };
    config.sources.push(SourceConfig::new("web", WRITE_KEY));
    config
}

impl TestRelay {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut RelayConfig)) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mut relay = Self::start_in(tmp.path(), tweak);
        relay._tmp = Some(tmp);
        relay
    }

    pub fn start_in(data_dir: &Path, tweak: impl FnOnce(&mut RelayConfig)) -> Self {
        let mut config = config(data_dir);
        tweak(&mut config);
        let relay = Relay::open(config)
            .unwrap()
            .spawn("127.0.0.1:0".parse().unwrap())
            .unwrap();
        TestRelay {
            addr: relay.addr(),
            data_dir: data_dir.to_path_buf(),
            relay: Some(relay),
            _tmp: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn post(&self, path: &str, body: &str) -> reqwest::blocking::Response {
        reqwest::blocking::Client::new()
            .post(self.url(path))
            .bearer_auth(WRITE_KEY)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    }

    pub fn log(&self) -> Vec<serde_json::Value> {
        read_log(&self.data_dir.join("log"))
    }

    pub fn dead_letters(&self) -> Vec<serde_json::Value> {
        read_log(&self.data_dir.join("dead-letter"))
    }

    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.stop().unwrap();
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

pub fn read_log(dir: &Path) -> Vec<serde_json::Value> {
    read_payloads(dir)
        .iter()
        .map(|payload| serde_json::from_slice(payload).unwrap())
        .collect()
}

/// Every record of the log in `dir`, as stored.
pub fn read_payloads(dir: &Path) -> Vec<Vec<u8>> {
    let mut reader = LogReader::open(dir, 0).unwrap();
    let mut out = Vec::new();
    while let Some((_, payload)) = reader.next_record().unwrap() {
        out.push(payload.to_vec());
    }
    out
}
