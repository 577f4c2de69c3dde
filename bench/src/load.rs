//! A closed-loop HTTP/1.1 load generator: a fixed number of keep-alive
//! connections, each sending its next POST as soon as the previous answer is
//! read, for a warm-up and then a measured window.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What to send, where, and for how long.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Server address.
    pub addr: SocketAddr,
    /// Request path (`/api/events`, ...).
    pub path: String,
    /// `Authorization` header value, if any.
    pub authorization: Option<String>,
    /// Request bodies, sent in turn (distinct event ids per body).
    pub bodies: Arc<Vec<Bytes>>,
    /// Events in each body (1 for single-event requests).
    pub events_per_request: usize,
    /// Open connections, each with one request in flight.
    pub connections: usize,
    /// Time before measuring starts (connections open, caches warm).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Requests answered 2xx inside the measured window.
    pub ok_requests: u64,
    /// Requests answered with another status, or failed, inside the window.
    pub failed_requests: u64,
    /// The first failure seen, for the report.
    pub first_failure: Option<String>,
    /// 2xx answers over the whole run, warm-up included.
    pub ok_requests_total: u64,
    /// Length of the measured window.
    pub window: Duration,
    /// Latency of every 2xx request in the window, sorted.
    pub latencies: Vec<Duration>,
    /// Events per request.
    pub events_per_request: usize,
}

impl LoadResult {
    /// Adds another run of the same load: counts and windows add up, latencies join.
    pub fn merge(&mut self, other: LoadResult) {
        self.ok_requests += other.ok_requests;
        self.failed_requests += other.failed_requests;
        self.first_failure = self.first_failure.take().or(other.first_failure);
        self.ok_requests_total += other.ok_requests_total;
        self.window += other.window;
        self.latencies.extend(other.latencies);
        self.latencies.sort_unstable();
    }

    /// 2xx requests per second.
    pub fn requests_per_second(&self) -> f64 {
        self.ok_requests as f64 / self.window.as_secs_f64()
    }

    /// Events in 2xx requests per second.
    pub fn events_per_second(&self) -> f64 {
        self.requests_per_second() * self.events_per_request as f64
    }

    /// Latency at quantile `q` (0.0–1.0) of the 2xx requests.
    pub fn latency(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Why a load run could not be carried out at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A connection could not be opened.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// Target.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The HTTP handshake failed.
    #[error("HTTP handshake with {addr}: {source}")]
    Handshake {
        /// Target.
        addr: SocketAddr,
        /// hyper's error.
        source: hyper::Error,
    },
    /// A request could not be built from the spec.
    #[error("building the request: {0}")]
    Request(#[from] hyper::http::Error),
    /// A worker task died.
    #[error("a load worker stopped: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

struct Worker {
    ok: u64,
    ok_total: u64,
    failed: u64,
    first_failure: Option<String>,
    latencies: Vec<Duration>,
}

/// Runs `spec` and returns what was measured. Must be called inside a tokio runtime.
pub async fn run(spec: &LoadSpec) -> Result<LoadResult, LoadError> {
    let started = Instant::now();
    let measure_from = started + spec.warmup;
    let measure_until = measure_from + spec.duration;
    let mut tasks = Vec::with_capacity(spec.connections);
    for index in 0..spec.connections {
        let spec = spec.clone();
        tasks.push(tokio::spawn(async move {
            worker(&spec, index, measure_from, measure_until).await
        }));
    }
    let mut result = LoadResult {
        ok_requests: 0,
        failed_requests: 0,
        first_failure: None,
        ok_requests_total: 0,
        window: spec.duration,
        latencies: Vec::new(),
        events_per_request: spec.events_per_request,
    };
    for task in tasks {
        let w = task.await??;
        result.ok_requests += w.ok;
        result.ok_requests_total += w.ok_total;
        result.failed_requests += w.failed;
        result.first_failure = result.first_failure.or(w.first_failure);
        result.latencies.extend(w.latencies);
    }
    result.latencies.sort_unstable();
    Ok(result)
}

async fn worker(
    spec: &LoadSpec,
    index: usize,
    measure_from: Instant,
    measure_until: Instant,
) -> Result<Worker, LoadError> {
    let host = HeaderValue::from_str(&spec.addr.to_string()).map_err(hyper::http::Error::from)?;
    let authorization = spec
        .authorization
        .as_deref()
        .map(HeaderValue::from_str)
        .transpose()
        .map_err(hyper::http::Error::from)?;
    let mut w = Worker {
        ok: 0,
        ok_total: 0,
        failed: 0,
        first_failure: None,
        latencies: Vec::new(),
    };
    // Spread the connections over the bodies so concurrent requests differ.
    let mut next_body = index * spec.bodies.len() / spec.connections.max(1);
    let mut sender = connect(spec.addr).await?;
    loop {
        let start = Instant::now();
        if start >= measure_until {
            break;
        }
        let body = spec.bodies[next_body % spec.bodies.len()].clone();
        next_body += 1;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(spec.path.as_str())
            .header(HOST, host.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        if let Some(value) = &authorization {
            request.headers_mut().insert(AUTHORIZATION, value.clone());
        }
        let outcome = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                match response.into_body().collect().await {
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(body) => Err(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&body.to_bytes())
                    )),
                    Err(e) => Err(format!("reading the answer: {e}")),
                }
            }
            Err(e) => Err(format!("sending: {e}")),
        };
        let end = Instant::now();
        let in_window = start >= measure_from && end <= measure_until;
        match outcome {
            Ok(()) => {
                w.ok_total += 1;
                if in_window {
                    w.ok += 1;
                    w.latencies.push(end - start);
                }
            }
            Err(message) => {
                if in_window {
                    w.failed += 1;
                }
                w.first_failure.get_or_insert(message);
                if sender.is_closed() {
                    sender = connect(spec.addr).await?;
                }
            }
        }
        if sender.ready().await.is_err() {
            sender = connect(spec.addr).await?;
        }
    }
    Ok(w)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, LoadError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| LoadError::Connect { addr, source })?;
    stream
        .set_nodelay(true)
        .map_err(|source| LoadError::Connect { addr, source })?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|source| LoadError::Handshake { addr, source })?;
    tokio::spawn(connection);
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_rank() {
        let result = LoadResult {
            ok_requests: 100,
            failed_requests: 0,
            first_failure: None,
            ok_requests_total: 100,
            window: Duration::from_secs(2),
            latencies: (1..=100).map(Duration::from_millis).collect(),
            events_per_request: 10,
        };
        assert_eq!(result.latency(0.5), Duration::from_millis(50));
        assert_eq!(result.latency(0.99), Duration::from_millis(99));
        assert_eq!(result.latency(1.0), Duration::from_millis(100));
        assert_eq!(result.requests_per_second(), 50.0);
        assert_eq!(result.events_per_second(), 500.0);
    }
}
