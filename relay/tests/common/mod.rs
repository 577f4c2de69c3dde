//! A real relay on a loopback port, started in-process for HTTP tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use spoor_log::LogReader;
use spoor_relay::Relay;
use spoor_relay::config::{RelayConfig, SourceConfig};

pub const WRITE_KEY: &str = "test-write-key";
pub const READ_KEY: &str = "test-read-key";

pub struct TestRelay {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

pub fn config(data_dir: &Path) -> RelayConfig {
    let mut config = RelayConfig {
        data_dir: data_dir.to_path_buf(),
        read_key: Some(READ_KEY.into()),
        ..RelayConfig::default()
    };
    config.sources.push(SourceConfig {
        name: "web".into(),
        write_key: WRITE_KEY.into(),
        on_invalid: Default::default(),
        pii: Default::default(),
    });
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
        let relay = Relay::open(config).unwrap();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                Relay::serve(relay.router(), listener, async {
                    let _ = shutdown_rx.await;
                })
                .await
                .unwrap();
            });
        });
        TestRelay {
            addr: addr_rx.recv().unwrap(),
            data_dir: data_dir.to_path_buf(),
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
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
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

pub fn read_log(dir: &Path) -> Vec<serde_json::Value> {
    let mut reader = LogReader::open(dir, 0).unwrap();
    let mut out = Vec::new();
    while let Some((_, payload)) = reader.next_record().unwrap() {
        out.push(serde_json::from_slice(&payload).unwrap());
    }
    out
}
