//! Write and read keys: where they come from, how they are checked, and the
//! per-key rate limit.

use std::num::NonZeroU32;
use std::path::Path;

use axum::http::HeaderMap;
use base64::Engine;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{DEFAULT_SOURCE, RateLimit, RelayConfig, SourceConfig};

/// Keys generated on first start and kept in `DATA/keys.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredKeys {
    /// Write key of source "default".
    pub write_key: String,
    /// Read key.
    pub read_key: String,
}

/// Why keys could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing `keys.toml` failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `keys.toml` is not what the relay wrote.
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The file in the data directory holding generated keys.
pub const KEYS_FILE: &str = "keys.toml";

/// The keys generated on a first start in `data_dir`, if there are any.
pub fn stored_keys(data_dir: &Path) -> Result<Option<StoredKeys>, KeyError> {
    let path = data_dir.join(KEYS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(KeyError::Io { path, source }),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| KeyError::Damaged {
            path,
            message: e.to_string(),
        })
}

/// Fills in missing keys from `DATA/keys.toml`, generating and storing them on
/// first start. Returns the keys generated now (to print once), if any.
pub fn ensure_keys(config: &mut RelayConfig) -> Result<Option<StoredKeys>, KeyError> {
    if !config.sources.is_empty() && config.read_key.is_some() {
        return Ok(None);
    }
    let (stored, generated) = match stored_keys(&config.data_dir)? {
        Some(keys) => (keys, false),
        None => {
            let keys = StoredKeys {
                write_key: generate_key("spoor_w_"),
                read_key: generate_key("spoor_r_"),
            };
            write_private(&config.data_dir.join(KEYS_FILE), &keys)?;
            (keys, true)
        }
    };
    if config.sources.is_empty() {
        config
            .sources
            .push(SourceConfig::new(DEFAULT_SOURCE, stored.write_key.clone()));
    }
    config.read_key.get_or_insert(stored.read_key.clone());
    Ok(generated.then_some(stored))
}

fn write_private(path: &Path, keys: &StoredKeys) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = toml::to_string(keys).map_err(|e| KeyError::Damaged {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// A new random key: `prefix` + 32 hex characters (128 bits).
pub fn generate_key(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// A source as the relay knows it at run time.
pub struct Source {
    /// Its configuration.
    pub config: SourceConfig,
    digest: [u8; 32],
    limiter: DefaultDirectRateLimiter,
}

/// The known keys, checked in constant time.
pub struct KeyRing {
    sources: Vec<Source>,
    read_digest: Option<[u8; 32]>,
}

impl KeyRing {
    /// Builds the ring from configured sources and read key.
    pub fn new(sources: &[SourceConfig], read_key: Option<&str>, rate: &RateLimit) -> Self {
        let per_second = NonZeroU32::new(rate.events_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
        let sources = sources
            .iter()
            .map(|config| Source {
                config: config.clone(),
                digest: digest(&config.write_key),
                limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
            })
            .collect();
        KeyRing {
            sources,
            read_digest: read_key.map(digest),
        }
    }

    /// The source whose write key is `presented`. Every key is compared (in
    /// constant time, on SHA-256 digests so lengths do not leak).
    pub fn write_source(&self, presented: &str) -> Option<&Source> {
        self.write_source_index(presented)
            .and_then(|index| self.source(index))
    }

    /// [`KeyRing::write_source`] as a position for [`KeyRing::source`]: a key
    /// checked once can be carried to another thread without checking it again.
    pub fn write_source_index(&self, presented: &str) -> Option<usize> {
        let d = digest(presented);
        let mut found = None;
        for (index, source) in self.sources.iter().enumerate() {
            if bool::from(source.digest.ct_eq(&d)) {
                found = Some(index);
            }
        }
        found
    }

    /// The source at a position [`KeyRing::write_source_index`] gave.
    pub fn source(&self, index: usize) -> Option<&Source> {
        self.sources.get(index)
    }

    /// True when `presented` is the read key.
    pub fn is_read_key(&self, presented: &str) -> bool {
        self.read_digest
            .is_some_and(|r| bool::from(r.ct_eq(&digest(presented))))
    }

    /// Checks a read route's `Authorization` header: the read key passes, a
    /// write key is 403, anything else 401.
    pub fn require_read(&self, headers: &HeaderMap) -> Result<(), crate::error::ApiError> {
        use crate::error::ApiError;
        match key_from_headers(headers) {
            Some(key) if self.is_read_key(&key) => Ok(()),
            Some(key) if self.write_source(&key).is_some() => Err(ApiError::forbidden(
                "this is a write key; the read API needs the read key",
            )),
            Some(_) => Err(ApiError::unauthorized("the read key is not valid")),
            None => Err(ApiError::unauthorized(
                "no read key: send Authorization: Bearer READ_KEY",
            )),
        }
    }
}

impl Source {
    /// Takes `events` tokens from this key's bucket, or says how many seconds to wait.
    pub fn take(&self, events: usize) -> Result<(), u64> {
        let n = NonZeroU32::new(u32::try_from(events.max(1)).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_n(n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                Err(wait.as_secs().max(1))
            }
            // More events than the bucket can ever hold: wait a full refill.
            Err(_) => Err(1),
        }
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The key a request presents in its headers: `Authorization: Bearer KEY`, or
/// Segment-style Basic auth with the key as user name.
pub fn key_from_headers(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let user = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
        return Some(user.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        let sources = vec![SourceConfig::new("web", "write-key-1")];
        KeyRing::new(
            &sources,
            Some("read-key-1"),
            &RateLimit {
                events_per_second: 10,
                burst: 20,
            },
        )
    }

    #[test]
    fn keys_match_exactly() {
        let ring = ring();
        assert_eq!(
            ring.write_source("write-key-1")
                .map(|s| s.config.name.as_str()),
            Some("web")
        );
        assert!(ring.write_source("write-key-2").is_none());
        assert!(ring.write_source("write-key-1 ").is_none());
        assert!(ring.is_read_key("read-key-1"));
        assert!(!ring.is_read_key("write-key-1"));
    }

    #[test]
    fn rate_limit_counts_events() {
        let ring = ring();
        let source = ring.write_source("write-key-1").unwrap();
        assert!(source.take(20).is_ok());
        assert!(source.take(5).unwrap_err() >= 1);
    }

    #[test]
    fn header_forms() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(key_from_headers(&h).as_deref(), Some("abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("abc:");
        h.insert("authorization", format!("Basic {basic}").parse().unwrap());
        assert_eq!(key_from_headers(&h).as_deref(), Some("abc"));
        h.insert("authorization", "Token abc".parse().unwrap());
        assert_eq!(key_from_headers(&h), None);
    }
}
