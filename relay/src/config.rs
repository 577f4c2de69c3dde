//! Relay configuration: `spoor.toml`, the environment, and embedded defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything the relay can be told; every field has a default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory (`log/`, `dead-letter/`, `keys.toml`, ...).
    pub data_dir: PathBuf,
    /// Key that guards analytics, export and deletion.
    pub read_key: Option<String>,
    /// Write keys, one per source (web, ios, android, server, ...).
    pub sources: Vec<SourceConfig>,
    /// Size and shape limits.
    pub limits: Limits,
    /// How long the relay waits for a client (`[timeouts]`).
    pub timeouts: Timeouts,
    /// Enrichment settings.
    pub enrich: EnrichConfig,
    /// Per-write-key token bucket.
    pub rate_limit: RateLimit,
    /// Origins allowed to post events from browsers (`*` = any).
    pub cors_origins: Vec<String>,
    /// fsync before answering (turn off only to measure the rest).
    pub fsync: bool,
    /// Threads serving HTTP; by default one per CPU (see [`RelayConfig::workers`]).
    pub workers: Option<usize>,
    /// The pipeline `spoor up` runs beside the relay (`[pipeline]`).
    pub pipeline: spoor_pipeline::PipelineConfig,
    /// Named funnels for `?name=` queries (`[[funnels]]`), beside the built-in `checkout`.
    pub funnels: Vec<spoor_analytics::FunnelConfig>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./spoor-data"),
            read_key: None,
            sources: Vec::new(),
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            enrich: EnrichConfig::default(),
            rate_limit: RateLimit::default(),
            cors_origins: vec!["*".into()],
            fsync: true,
            workers: None,
            pipeline: spoor_pipeline::PipelineConfig::default(),
            funnels: Vec::new(),
        }
    }
}

/// One source of events and its write key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Source name stored with every event (`web`, `ios`, `server`, ...).
    pub name: String,
    /// The write key clients of this source send.
    pub write_key: String,
    /// What to do with events that fail validation.
    #[serde(default)]
    pub on_invalid: InvalidPolicy,
    /// What to do with properties the schema marks `x-pii`.
    #[serde(default)]
    pub pii: PiiPolicy,
}

/// The source of the write key from `SPOOR_WRITE_KEY` or generated on first start.
pub const DEFAULT_SOURCE: &str = "default";

impl SourceConfig {
    /// A source named `name` with `write_key` and the default policies:
    /// invalid events rejected, properties marked `x-pii` kept.
    pub fn new(name: impl Into<String>, write_key: impl Into<String>) -> Self {
        SourceConfig {
            name: name.into(),
            write_key: write_key.into(),
            on_invalid: InvalidPolicy::default(),
            pii: PiiPolicy::default(),
        }
    }
}

/// Handling of unknown event names and schema violations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvalidPolicy {
    /// Refuse the event; it goes to the dead-letter log.
    #[default]
    Reject,
    /// Accept it into the log with a flag (`unknown_event`, `schema_violation`).
    Flag,
}

/// Handling of properties marked `x-pii` in the schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PiiPolicy {
    /// Store as sent.
    #[default]
    Keep,
    /// Replace with a hex SHA-256 of the value (joins still work, the value is gone).
    Hash,
    /// Remove the property.
    Drop,
}

/// Size and shape limits for requests and events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest event, as JSON bytes.
    pub max_event_bytes: usize,
    /// Largest request body after decompression.
    pub max_request_bytes: usize,
    /// Deepest nesting of objects and arrays inside an event.
    pub max_depth: usize,
    /// Most keys in `properties`, `traits` or `context`.
    pub max_properties: usize,
    /// Longest string value.
    pub max_string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 32 * 1024,
            max_request_bytes: 500 * 1024,
            max_depth: 16,
            max_properties: 512,
            max_string_bytes: 8 * 1024,
        }
    }
}

/// How long the relay waits for a client before it closes the connection, so
/// that idle or slow clients cannot hold connections and memory for ever.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// For a request's headers to arrive whole, counted from the first byte
    /// of a new connection or the end of the previous answer on a kept-alive
    /// one: a connection that stays idle this long is closed.
    pub header_ms: u64,
    /// Between two reads of a request body; a body that stalls longer is
    /// answered 408 and its connection closed.
    pub body_idle_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_ms: 60_000,
            body_idle_ms: 30_000,
        }
    }
}

impl Timeouts {
    /// [`Timeouts::header_ms`] as a duration.
    pub fn header(&self) -> Duration {
        Duration::from_millis(self.header_ms)
    }

    /// [`Timeouts::body_idle_ms`] as a duration.
    pub fn body_idle(&self) -> Duration {
        Duration::from_millis(self.body_idle_ms)
    }
}

/// Enrichment settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrichConfig {
    /// What to keep of the client IP.
    pub ip: IpPolicy,
    /// Event times further than this in the future (after skew correction) are flagged.
    pub future_tolerance_secs: u64,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        EnrichConfig {
            ip: IpPolicy::Truncate,
            future_tolerance_secs: 10 * 60,
            trust_forwarded_for: false,
        }
    }
}

/// What the relay stores of the client IP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpPolicy {
    /// The full address.
    Keep,
    /// IPv4 to /24, IPv6 to /48.
    #[default]
    Truncate,
    /// No address at all.
    Drop,
}

/// A token bucket per write key, counted in events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained events per second per key.
    pub events_per_second: u32,
    /// Bucket size: events a key may send at once.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            events_per_second: 100_000,
            burst: 200_000,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl RelayConfig {
    /// Reads `path` if given, else `./spoor.toml` if it exists, else the defaults;
    /// then applies `SPOOR_WRITE_KEY` and `SPOOR_READ_KEY` from the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let default_path = Path::new("spoor.toml");
        let path = path.or(default_path.exists().then_some(default_path));
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_path_buf(),
                    source: Box::new(source),
                })?
            }
            None => RelayConfig::default(),
        };
        config.apply_env(|name| std::env::var(name).ok());
        config.check()?;
        Ok(config)
    }

    /// Applies `SPOOR_WRITE_KEY` (one key, source "default") and `SPOOR_READ_KEY`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(key) = var("SPOOR_WRITE_KEY").filter(|k| !k.is_empty()) {
            self.sources.retain(|s| s.name != DEFAULT_SOURCE);
            self.sources.push(SourceConfig::new(DEFAULT_SOURCE, key));
        }
        if let Some(key) = var("SPOOR_READ_KEY").filter(|k| !k.is_empty()) {
            self.read_key = Some(key);
        }
    }

    /// Threads serving HTTP: `workers` when set, else one per CPU. Each
    /// request is processed on the thread that reads it; on 2 cores two
    /// threads ingest a quarter more batched events than one and as many
    /// single events (BENCHMARKS.md, "Relay").
    pub fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// The built-in funnels plus the configured ones.
    pub fn funnel_catalog(&self) -> Result<spoor_analytics::FunnelCatalog, ConfigError> {
        spoor_analytics::FunnelCatalog::with_config(&self.funnels)
            .map_err(|e| ConfigError::Invalid(format!("funnels: {e}")))
    }

    /// Checks values that the types alone do not.
    pub fn check(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        if l.max_event_bytes == 0 || l.max_request_bytes < l.max_event_bytes {
            return Err(ConfigError::Invalid(
                "limits.max_request_bytes must be at least limits.max_event_bytes (> 0)".into(),
            ));
        }
        if self.rate_limit.events_per_second == 0 || self.rate_limit.burst == 0 {
            return Err(ConfigError::Invalid(
                "rate_limit.events_per_second and rate_limit.burst must be > 0".into(),
            ));
        }
        if self.timeouts.header_ms == 0 || self.timeouts.body_idle_ms == 0 {
            return Err(ConfigError::Invalid(
                "timeouts.header_ms and timeouts.body_idle_ms must be > 0".into(),
            ));
        }
        if self.workers == Some(0) {
            return Err(ConfigError::Invalid("workers must be at least 1".into()));
        }
        self.funnel_catalog()?;
        for (i, s) in self.sources.iter().enumerate() {
            if s.write_key.len() < 8 || s.name.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "sources[{i}]: name must be set and write_key must have at least 8 characters"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_default_is_one_per_cpu_and_an_explicit_count_wins() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(RelayConfig::default().workers(), cpus);
        let config: RelayConfig = toml::from_str("workers = 3").unwrap();
        assert_eq!(config.workers(), 3);
        let zero: RelayConfig = toml::from_str("workers = 0").unwrap();
        assert!(matches!(zero.check(), Err(ConfigError::Invalid(m)) if m.contains("workers")));
    }

    #[test]
    fn timeouts_come_from_their_table_and_zero_is_refused() {
        let config: RelayConfig =
            toml::from_str("[timeouts]\nheader_ms = 5000\nbody_idle_ms = 2500").unwrap();
        assert_eq!(config.timeouts.header(), Duration::from_secs(5));
        assert_eq!(config.timeouts.body_idle(), Duration::from_millis(2500));
        assert_eq!(
            RelayConfig::default().timeouts.header(),
            Duration::from_secs(60)
        );
        for zero in ["[timeouts]\nheader_ms = 0", "[timeouts]\nbody_idle_ms = 0"] {
            let config: RelayConfig = toml::from_str(zero).unwrap();
            assert!(
                matches!(config.check(), Err(ConfigError::Invalid(m)) if m.contains("timeouts")),
                "{zero}"
            );
        }
    }
}
