//! The relay as a running service: state, router, and serving with graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, header};
use axum::routing::{MethodRouter, get, post};
use spoor_log::event::EventType;
use spoor_log::{EventLog, GroupCommit, LogError, LogOptions};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::RelayConfig;
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
    /// One permit per CPU for processing big request bodies off the HTTP threads.
    pub cpu_permits: tokio::sync::Semaphore,
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
            },
            log: GroupCommit::observed(log, metrics.log_observer("events")),
            dead_letter: GroupCommit::observed(dead_letter, metrics.log_observer("dead_letter")),
            metrics,
            config,
            cpu_permits: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            ),
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
        let ingestion = Router::new()
            .route("/api/events", ingest(IngestRoute::EVENT))
            .route("/api/events/batch", ingest(IngestRoute::BATCH))
            .route("/v1/batch", ingest(IngestRoute::SEGMENT_BATCH))
            .route("/v1/import", ingest(IngestRoute::SEGMENT_BATCH))
            .route("/v1/track", ingest(IngestRoute::segment(EventType::Track)))
            .route(
                "/v1/identify",
                ingest(IngestRoute::segment(EventType::Identify)),
            )
            .route("/v1/page", ingest(IngestRoute::segment(EventType::Page)))
            .route(
                "/v1/screen",
                ingest(IngestRoute::segment(EventType::Screen)),
            )
            .route("/v1/group", ingest(IngestRoute::segment(EventType::Group)))
            .route("/v1/alias", ingest(IngestRoute::segment(EventType::Alias)))
            .layer(cors);
        Router::new()
            .merge(ingestion)
            .route("/api/analytics/funnel", get(read_api::funnel))
            .route("/api/analytics/retention", get(read_api::retention))
            .route("/api/analytics/attribution", get(read_api::attribution))
            .route("/api/analytics/experiment", get(read_api::experiment))
            .route("/api/analytics/realtime", get(read_api::realtime))
            .route("/api/events/export", post(read_api::export))
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

    /// Serves `router` on `listener` until `shutdown` completes, then lets
    /// in-flight requests finish and the log writers drain.
    pub async fn serve(
        router: Router,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
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
