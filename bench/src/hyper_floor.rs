//! The floor the relay's HTTP stack sets: hyper on tokio, served the way the
//! relay serves (its number of HTTP threads, HTTP/1.1 keep-alive, no Nagle),
//! answering every request with the relay's success body after reading the
//! request body, and doing nothing else: no parsing, no validation, no log.
//!
//! Beside nginx it shows how much of nginx's rate the HTTP stack alone
//! reaches, and so how much of the gap between the relay and nginx is the
//! relay's own work.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::thread::JoinHandle;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use spoor_relay::config::Limits;
use spoor_relay::wait_after_accept_error;
use tokio::sync::oneshot;

/// A running floor server; stopped when dropped.
pub struct HyperFloor {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HyperFloor {
    /// Starts the server on 127.0.0.1 (a free port) on `workers` runtime
    /// threads named `hyper-floor`.
    pub fn start(workers: usize) -> std::io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), workers)
    }

    /// Starts the server on `addr` on `workers` runtime threads named `hyper-floor`.
    pub fn bind(addr: SocketAddr, workers: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("hyper-floor")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(addr))?;
        let addr = listener.local_addr()?;
        let (shutdown, mut stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hyper-floor-accept".into())
            .spawn(move || {
                runtime.block_on(async move {
                    loop {
                        let stream = tokio::select! {
                            accepted = listener.accept() => match accepted {
                                Ok((stream, _)) => stream,
                                Err(e) => {
                                    wait_after_accept_error(&e).await;
                                    continue;
                                }
                            },
                            _ = &mut stop => break,
                        };
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(answer);
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                });
            })?;
        Ok(HyperFloor {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HyperFloor {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the whole body and answers `{"accepted":1,"rejected":[]}`, the
/// relay's answer to one good event.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Bodies over the relay's default request limit are answered 413, as the relay answers them.
    let limit = Limits::default().max_request_bytes;
    let read = Limited::new(request.into_body(), limit).collect().await;
    let response = match read {
        Ok(_) => Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(
                b"{\"accepted\":1,\"rejected\":[]}",
            ))),
        Err(_) => Response::builder()
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .body(Full::new(Bytes::new())),
    };
    Ok(response.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor answers over real HTTP with the relay's success body.
    #[test]
    fn answers_the_relays_success_body() {
        let floor = HyperFloor::start(1).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (status, body) = runtime.block_on(async {
            let stream = tokio::net::TcpStream::connect(floor.addr()).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let request = Request::post("/api/events")
                .header(header::HOST, "127.0.0.1")
                .body(Full::new(Bytes::from_static(b"{\"eventName\":\"x\"}")))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body)
        });
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"{\"accepted\":1,\"rejected\":[]}");
    }
}
