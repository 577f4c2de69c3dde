//! The relay as a running service: state, router, and serving with graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, header};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};
use futures_util::future::BoxFuture;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use spoor_log::event::EventType;
use spoor_log::{EventLog, GroupCommit, LogError, LogOptions};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::RelayConfig;
use crate::erasure::ErasedIds;
use crate::error::ApiError;
use crate::ingest::Ingestor;
use crate::ingest_route::{IngestRoute, handle};
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::schema_registry::{RegistryError, SchemaRegistry};
use crate::{admin, read_api};

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The log or dead-letter log could not be opened.
    #[error("opening the log: {0}")]
    Log(#[from] LogError),
    /// A schema does not compile.
    #[error(transparent)]
    Schema(#[from] RegistryError),
    /// No write key is configured.
    #[error("no write key is configured (set SPOOR_WRITE_KEY or [[sources]] in spoor.toml)")]
    NoKeys,
}

/// Shared state of a running relay.
pub struct RelayState {
    /// Configuration as loaded.
    pub config: RelayConfig,
    /// Parsing, validation and enrichment.
    pub ingestor: Ingestor,
    /// Write and read keys with rate limits.
    pub keys: KeyRing,
    /// The event log.
    pub log: GroupCommit,
    /// The dead-letter log.
    pub dead_letter: GroupCommit,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Held for reading by an ingestion request from its check of the erased
    /// ids until its records are queued; for writing by an erasure adding ids
    /// (see [`crate::erasure`]).
    pub ingest_gate: tokio::sync::RwLock<()>,
    /// One erasure at a time.
    pub erasing: tokio::sync::Mutex<()>,
}

/// A relay ready to serve: logs open, schemas compiled, keys loaded.
pub struct Relay {
    state: Arc<RelayState>,
    repaired_bytes: u64,
}

impl Relay {
    /// Opens the logs under `config.data_dir` (repairing a torn tail) and
    /// compiles the embedded schema registry. Keys must already be in `config`
    /// (see [`crate::keys::ensure_keys`]).
    pub fn open(config: RelayConfig) -> Result<Self, StartError> {
        Self::with_registry(config, SchemaRegistry::embedded()?)
    }

    /// Like [`Relay::open`] with a given schema registry.
    pub fn with_registry(
        config: RelayConfig,
        registry: SchemaRegistry,
    ) -> Result<Self, StartError> {
        if config.sources.is_empty() {
            return Err(StartError::NoKeys);
        }
        let options = LogOptions {
            fsync: config.fsync,
            ..LogOptions::default()
        };
        let log = EventLog::open(&log_dir(&config.data_dir), options.clone())?;
        let dead_letter = EventLog::open(&dead_letter_dir(&config.data_dir), options)?;
        let repaired_bytes = log.repaired_bytes() + dead_letter.repaired_bytes();
        let erased = ErasedIds::load(&log_dir(&config.data_dir))?;
        let metrics = Metrics::new(config.sources.iter().map(|s| s.name.as_str()));
        metrics
            .log_records
            .set(i64::try_from(log.next_offset()).unwrap_or(i64::MAX));
        let state = RelayState {
            keys: KeyRing::new(
                &config.sources,
                config.read_key.as_deref(),
                &config.rate_limit,
            ),
            ingestor: Ingestor {
                registry,
                limits: config.limits.clone(),
                enrich: config.enrich.clone(),
                erased,
            },
            log: GroupCommit::observed(log, metrics.log_observer("events")),
            dead_letter: GroupCommit::observed(dead_letter, metrics.log_observer("dead_letter")),
            metrics,
            config,
            ingest_gate: tokio::sync::RwLock::new(()),
            erasing: tokio::sync::Mutex::new(()),
        };
        Ok(Relay {
            state: Arc::new(state),
            repaired_bytes,
        })
    }

    /// Bytes of torn tail cut off the logs at open.
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired_bytes
    }

    /// The shared state (for routes added by the embedding binary).
    pub fn state(&self) -> Arc<RelayState> {
        Arc::clone(&self.state)
    }

    /// Records of the event log below this offset are durable.
    pub fn durable_offset(&self) -> Arc<AtomicU64> {
        self.state.log.durable_offset()
    }

    /// The relay's routes: ingestion (with CORS), health, metrics.
    pub fn router(&self) -> Router {
        let cors = cors_layer(&self.state.config.cors_origins);
        let ingestion = INGEST_ROUTES
            .iter()
            .fold(Router::new(), |router, (path, route)| {
                router.route(path, ingest(*route))
            })
            .layer(cors);
        Router::new()
            .merge(ingestion)
            .route("/api/analytics/funnel", get(read_api::funnel))
            .route("/api/analytics/retention", get(read_api::retention))
            .route("/api/analytics/attribution", get(read_api::attribution))
            .route("/api/analytics/experiment", get(read_api::experiment))
            .route("/api/analytics/realtime", get(read_api::realtime))
            .route("/api/events/export", post(read_api::export))
            .route("/api/users/{id}", delete(read_api::erase_user))
            .route("/", get(admin::dashboard))
            .route("/healthz", get(admin::healthz))
            .route("/metrics", get(admin::metrics))
            .fallback(|| async { ApiError::not_found("no such route") })
            .with_state(Arc::clone(&self.state))
    }

    /// The runtime to serve on: [`RelayConfig::workers`] threads named `spoor-http`.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.state.config.workers())
            .thread_name("spoor-http")
            .enable_all()
            .build()
    }

    /// Serves the relay on `listener` until `shutdown` completes, then lets
    /// in-flight requests finish and the log writers drain.
    ///
    /// `routes` are served as they are (start from [`Relay::router`] and add
    /// to it). A `POST` to an ingestion route without an `Origin` header (a
    /// server, an app, a test; not a browser, whose requests need CORS) goes
    /// straight to the ingestion handler instead of through the router:
    /// routing, its layers and their per-request allocations were a tenth of
    /// the HTTP thread's time for single events.
    pub fn serve(
        &self,
        routes: Router,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        let state = Arc::clone(&self.state);
        let mut http1 = hyper::server::conn::http1::Builder::new();
        // Closes connections that send no request head in time: idle
        // kept-alive ones, and clients that trickle headers (slowloris).
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(state.config.timeouts.header());
        async move {
            let connections = GracefulShutdown::new();
            let mut shutdown = std::pin::pin!(shutdown);
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            wait_after_accept_error(&e).await;
                            continue;
                        }
                    },
                    () = &mut shutdown => break,
                };
                // Answers go out whole in one write; Nagle's algorithm would
                // only hold back the tail of a streamed export.
                let _ = stream.set_nodelay(true);
                let service = Dispatch {
                    state: Arc::clone(&state),
                    routes: TowerToHyperService::new(routes.clone()),
                    peer,
                };
                let connection = http1.serve_connection(TokioIo::new(stream), service);
                let connection = connections.watch(connection);
                tokio::spawn(async move {
                    // A connection's I/O error ends that connection only.
                    let _ = connection.await;
                });
            }
            drop(listener);
            connections.shutdown().await;
            Ok(())
        }
    }
}

/// After a failed `accept`: a connection reset before it was accepted needs
/// nothing; anything else (out of file descriptors) waits a moment, as
/// `axum::serve` does, instead of spinning.
pub async fn wait_after_accept_error(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// One connection's service: ingestion directly, everything else through the routes.
#[derive(Clone)]
struct Dispatch {
    state: Arc<RelayState>,
    routes: TowerToHyperService<Router>,
    peer: SocketAddr,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Dispatch {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let direct = (request.method() == Method::POST
            && !request.headers().contains_key(header::ORIGIN))
        .then(|| ingest_route(request.uri().path()))
        .flatten();
        match direct {
            Some(route) => {
                let (parts, body) = request.into_parts();
                let state = Arc::clone(&self.state);
                let peer = self.peer;
                Box::pin(async move {
                    Ok(handle(state, route, peer, parts.headers, Body::new(body)).await)
                })
            }
            None => {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(self.peer));
                Box::pin(self.routes.call(request))
            }
        }
    }
}

/// The ingestion routes: path and how each reads its body.
const INGEST_ROUTES: [(&str, IngestRoute); 10] = [
    ("/api/events", IngestRoute::EVENT),
    ("/api/events/batch", IngestRoute::BATCH),
    ("/v1/batch", IngestRoute::SEGMENT_BATCH),
    ("/v1/import", IngestRoute::SEGMENT_BATCH),
    ("/v1/track", IngestRoute::segment(EventType::Track)),
    ("/v1/identify", IngestRoute::segment(EventType::Identify)),
    ("/v1/page", IngestRoute::segment(EventType::Page)),
    ("/v1/screen", IngestRoute::segment(EventType::Screen)),
    ("/v1/group", IngestRoute::segment(EventType::Group)),
    ("/v1/alias", IngestRoute::segment(EventType::Alias)),
];

fn ingest_route(path: &str) -> Option<IngestRoute> {
    INGEST_ROUTES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, route)| *route)
}

/// `DATA/log`.
pub fn log_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("log")
}

/// `DATA/dead-letter`.
pub fn dead_letter_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("dead-letter")
}

fn ingest(route: IngestRoute) -> MethodRouter<Arc<RelayState>> {
    post(
        move |State(state): State<Arc<RelayState>>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              request: Request| {
            // Take the headers out of the request instead of cloning them.
            let (parts, body) = request.into_parts();
            handle(state, route, peer, parts.headers, body)
        },
    )
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::POST, Method::OPTIONS])
        .expose_headers([header::RETRY_AFTER])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::CONTENT_ENCODING,
        ])
        .max_age(std::time::Duration::from_secs(86_400))
}
