//! The real `spoor` binary started by the tests: a child process on a loopback port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `spoor up` or `spoor relay`; killed when dropped (also when a test fails,
/// so no child is left holding the test's output pipe).
pub struct Spoor {
    /// The process.
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// Every line it printed so far.
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Spoor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spoor COMMAND --listen 127.0.0.1:0 --data-dir DATA_DIR` (`up` or `relay`) with
/// the keys in the environment and waits until it listens.
pub fn start(command: &str, data_dir: &Path, write_key: &str, read_key: &str) -> Spoor {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args([command, "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("SPOOR_WRITE_KEY", write_key)
        .env("SPOOR_READ_KEY", read_key)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn spoor");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let addr = loop {
        let line = lines
            .next()
            .expect("spoor exited before listening")
            .expect("read stdout");
        output.lock().unwrap().push(line.clone());
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_string();
        }
    };
    let sink = std::sync::Arc::clone(&output);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Spoor {
        child,
        addr,
        output,
    }
}

/// `spoor log cat` of the event log (or the dead-letter log) of `data_dir`.
pub fn log_cat(data_dir: &Path, dead_letter: bool) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spoor"));
    command.args(["log", "cat", "--data-dir"]).arg(data_dir);
    if dead_letter {
        command.arg("--dead-letter");
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
