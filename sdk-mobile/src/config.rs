//! What the app passes to `SpoorClient.configure`, checked and turned into the
//! native host's [`spoor::Options`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use spoor::{ConsentMode, Library, Options};

use crate::error::SpoorError;
use crate::json::{JsonValue, convert_map};

/// File name of the SQLite queue inside the data directory.
pub const QUEUE_FILE: &str = "spoor-queue.sqlite3";

/// Settings of a [`SpoorClient`](crate::SpoorClient). Settings left `null`/`nil`
/// take the defaults of DESIGN.md ("Client defaults"), given in each field's doc.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SpoorConfig {
    /// The write key of this app's source, sent as a Bearer token.
    pub write_key: String,
    /// Base URL of the relay, e.g. `https://events.example.com`; batches go to
    /// `{endpoint}/api/events/batch`.
    pub endpoint: String,
    /// A directory the app owns (Android: `context.filesDir`, iOS: Application
    /// Support); the queue lives in `spoor-queue.sqlite3` inside. Created if missing.
    pub data_dir: String,
    /// Send once this many events are queued. Default 20.
    #[uniffi(default = None)]
    pub flush_at: Option<i32>,
    /// Send queued events at the latest this many milliseconds after the oldest was queued. Default 10,000.
    #[uniffi(default = None)]
    pub flush_interval_ms: Option<i64>,
    /// Most events kept while offline; beyond it the oldest are dropped and counted. Default 10,000.
    #[uniffi(default = None)]
    pub max_queue_events: Option<i32>,
    /// Most bytes of events kept while offline; beyond it the oldest are dropped. Default 10 MiB.
    #[uniffi(default = None)]
    pub max_queue_bytes: Option<i64>,
    /// Time limit of one request to the relay, in milliseconds. Default 10,000.
    #[uniffi(default = None)]
    pub request_timeout_ms: Option<i64>,
    /// A new session starts after this many milliseconds without events. Default 30 minutes.
    #[uniffi(default = None)]
    pub session_timeout_ms: Option<i64>,
    /// `true` (the default): nothing is stored or sent until `setConsent` grants
    /// a category; events wait in memory meanwhile. `false`: everything counts as
    /// granted until the first `setConsent` or `optOut`.
    #[uniffi(default = true)]
    pub require_consent: bool,
    /// Record `Application Opened` in `onForeground` and `Application Backgrounded`
    /// in `onBackground`. Default `false`.
    #[uniffi(default = false)]
    pub track_lifecycle_events: bool,
    /// Context added to every event: `app`, `device`, `os`, `locale`, `timezone`, ...
    #[uniffi(default)]
    pub context: HashMap<String, JsonValue>,
}

/// A checked configuration: the host's options plus what the mobile layer itself uses.
#[derive(Debug)]
pub struct Checked {
    /// Options for the native host.
    pub options: Options,
    /// The data directory (created).
    pub data_dir: PathBuf,
    /// Whether the lifecycle hooks record events.
    pub track_lifecycle_events: bool,
}

impl SpoorConfig {
    /// Checks every setting, creates the data directory and builds the host's options.
    pub fn check(self) -> Result<Checked, SpoorError> {
        if self.write_key.trim().is_empty() {
            return Err(invalid("writeKey must not be empty"));
        }
        let endpoint = self.endpoint.trim();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
            || endpoint.len() <= "https://".len()
        {
            return Err(invalid(format!(
                "endpoint must be an http:// or https:// URL, got {:?}",
                self.endpoint
            )));
        }
        if self.data_dir.trim().is_empty() {
            return Err(invalid("dataDir must not be empty"));
        }
        let data_dir = PathBuf::from(&self.data_dir);
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            SpoorError::Storage(format!(
                "cannot create the data directory {}: {e}",
                data_dir.display()
            ))
        })?;

        let mut options =
            Options::new(endpoint, self.write_key).queue_path(data_dir.join(QUEUE_FILE));
        let config = &mut options.config;
        config.library = Library {
            name: String::from("spoor-mobile"),
            version: String::from(env!("CARGO_PKG_VERSION")),
        };
        config.consent_mode = if self.require_consent {
            ConsentMode::RequireDecision
        } else {
            ConsentMode::GrantedUntilDecided
        };
        config.context = convert_map("context", self.context)?.map.into();
        if let Some(n) = self.flush_at {
            config.flush_at = count("flushAt", n)?;
        }
        if let Some(ms) = self.flush_interval_ms {
            config.flush_interval = millis("flushIntervalMs", ms)?;
        }
        if let Some(n) = self.max_queue_events {
            config.max_queue_events = count("maxQueueEvents", n)?;
        }
        if let Some(n) = self.max_queue_bytes {
            config.max_queue_bytes = count("maxQueueBytes", n)?;
        }
        if let Some(ms) = self.session_timeout_ms {
            config.session_timeout = millis("sessionTimeoutMs", ms)?;
        }
        if let Some(ms) = self.request_timeout_ms {
            options.request_timeout = millis("requestTimeoutMs", ms)?;
        }
        Ok(Checked {
            options,
            data_dir,
            track_lifecycle_events: self.track_lifecycle_events,
        })
    }
}

fn invalid(message: impl Into<String>) -> SpoorError {
    SpoorError::InvalidArgument(message.into())
}

/// A count setting: at least 1.
fn count<T: TryInto<usize> + Copy + std::fmt::Display>(
    name: &str,
    value: T,
) -> Result<usize, SpoorError> {
    match value.try_into() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(invalid(format!("{name} must be at least 1, got {value}"))),
    }
}

/// A duration setting in milliseconds: at least 1.
fn millis(name: &str, value: i64) -> Result<Duration, SpoorError> {
    match u64::try_from(value) {
        Ok(ms) if ms >= 1 => Ok(Duration::from_millis(ms)),
        _ => Err(invalid(format!(
            "{name} must be at least 1 ms, got {value}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &str) -> SpoorConfig {
        SpoorConfig {
            write_key: "wk".into(),
            endpoint: "http://127.0.0.1:9".into(),
            data_dir: dir.into(),
            flush_at: None,
            flush_interval_ms: None,
            max_queue_events: None,
            max_queue_bytes: None,
            request_timeout_ms: None,
            session_timeout_ms: None,
            require_consent: true,
            track_lifecycle_events: false,
            context: HashMap::new(),
        }
    }

    #[test]
    fn unset_settings_keep_the_core_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let checked = config(dir.path().to_str().unwrap()).check().unwrap();
        let defaults = spoor_core::Config::default();
        let config = &checked.options.config;
        assert_eq!(config.flush_at, defaults.flush_at);
        assert_eq!(config.flush_interval, defaults.flush_interval);
        assert_eq!(config.max_queue_events, defaults.max_queue_events);
        assert_eq!(config.max_queue_bytes, defaults.max_queue_bytes);
        assert_eq!(config.session_timeout, defaults.session_timeout);
        assert_eq!(config.consent_mode, ConsentMode::RequireDecision);
        assert_eq!(config.library.name, "spoor-mobile");
        assert_eq!(
            checked.options.batch_url(),
            "http://127.0.0.1:9/api/events/batch"
        );
    }

    #[test]
    fn bad_settings_say_which_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        let cases: Vec<(SpoorConfig, &str)> = vec![
            (
                SpoorConfig {
                    write_key: " ".into(),
                    ..config(path)
                },
                "writeKey must not be empty",
            ),
            (
                SpoorConfig {
                    endpoint: "127.0.0.1:8080".into(),
                    ..config(path)
                },
                "endpoint must be an http:// or https:// URL",
            ),
            (
                SpoorConfig {
                    flush_at: Some(0),
                    ..config(path)
                },
                "flushAt must be at least 1, got 0",
            ),
            (
                SpoorConfig {
                    flush_interval_ms: Some(-5),
                    ..config(path)
                },
                "flushIntervalMs must be at least 1 ms, got -5",
            ),
            (
                SpoorConfig {
                    data_dir: String::new(),
                    ..config(path)
                },
                "dataDir must not be empty",
            ),
        ];
        for (config, expected) in cases {
            let err = config.check().unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "{err} does not contain {expected}"
            );
        }
    }

    #[test]
    fn a_data_dir_that_cannot_be_created_is_a_storage_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"not a directory").unwrap();
        let err = config(file.join("queue").to_str().unwrap())
            .check()
            .unwrap_err();
        assert!(matches!(err, SpoorError::Storage(_)), "{err:?}");
        assert!(
            err.to_string().contains("cannot create the data directory"),
            "{err}"
        );
    }
}
