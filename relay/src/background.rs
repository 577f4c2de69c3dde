//! A relay serving from a thread and async runtime of its own: for programs
//! that embed the relay without an async runtime of their own, and for tests
//! that talk HTTP to a real relay.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::server::Relay;

/// How long [`Relay::spawn`] keeps retrying an address that is still taken
/// (a relay that just stopped on the same port).
const BIND_RETRY: Duration = Duration::from_secs(10);

/// A relay serving in the background; [`BackgroundRelay::stop`] (or drop)
/// shuts it down gracefully: in-flight requests finish and the logs drain.
pub struct BackgroundRelay {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Relay {
    /// Serves this relay on `addr` (port 0: any free port) from a new thread
    /// with its own runtime; returns once it is listening.
    pub fn spawn(self, addr: SocketAddr) -> std::io::Result<BackgroundRelay> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("spoor-relay".into())
            .spawn(move || {
                // A failure before listening goes to the caller through `ready`.
                let runtime = match self.runtime() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return Ok(());
                    }
                };
                runtime.block_on(async move {
                    let listener = match bind(addr).await {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    self.serve(self.router(), listener, async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                })
            })?;
        let addr = ready_rx.recv().map_err(|_| {
            std::io::Error::other("the relay thread stopped before it was listening")
        })??;
        Ok(BackgroundRelay {
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

impl BackgroundRelay {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits until in-flight requests are answered.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| std::io::Error::other("the relay thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundRelay {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Binds `addr`, retrying for a while if it is still in use.
async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let started = Instant::now();
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse && started.elapsed() < BIND_RETRY =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            result => return result,
        }
    }
}
