//! nginx answering `204 No Content` on a loopback port: the HTTP baseline the
//! relay is measured beside. Started from a temporary config, stopped on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why nginx could not be started.
#[derive(Debug, thiserror::Error)]
pub enum NginxError {
    /// No nginx binary was found.
    #[error("nginx is not installed (run bench/setup.sh, or pass --nginx PATH)")]
    NotFound,
    /// Files or the process could not be set up.
    #[error("starting nginx: {0}")]
    Io(#[from] std::io::Error),
    /// nginx exited or never listened.
    #[error("nginx did not start: {0}")]
    NotListening(String),
}

/// A running nginx; killed and reaped when dropped.
pub struct Nginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Finds nginx on `PATH` or in `/usr/sbin`.
    pub fn locate() -> Option<PathBuf> {
        let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join("nginx")).collect())
            .unwrap_or_default();
        candidates.push(PathBuf::from("/usr/sbin/nginx"));
        candidates.into_iter().find(|p| p.is_file())
    }

    /// Starts `binary` with `workers` worker processes on a free loopback port.
    pub fn start(binary: &Path, workers: usize) -> Result<Self, NginxError> {
        let dir = tempfile::Builder::new()
            .prefix("spoor-bench-nginx")
            .tempdir()?;
        let addr = free_port()?;
        let prefix = dir.path();
        let conf = prefix.join("nginx.conf");
        std::fs::write(&conf, config(prefix, addr, workers))?;
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(prefix.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(addr).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default();
                return Err(NginxError::NotListening(format!(
                    "exited with {status}: {log}"
                )));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(NginxError::NotListening(format!(
                    "nothing listens on {addr}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx {
            child,
            addr,
            _dir: dir,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master's process id (its workers are its children).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGKILL to the master only would leave its workers running: ask for a
        // fast shutdown (SIGTERM), then make sure.
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on the pid of our own child, which is not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.local_addr()
}

/// A minimal config: no access log, request bodies kept in memory, keep-alive
/// without a request cap, `return 204` for every path.
fn config(prefix: &Path, addr: SocketAddr, workers: usize) -> String {
    let p = prefix.display();
    format!(
        "daemon off;
master_process on;
worker_processes {workers};
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    server {{
        listen {addr};
        location / {{ return 204; }}
    }}
}}
"
    )
}
