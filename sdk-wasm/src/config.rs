//! The client configuration as the JavaScript side passes it: one JSON object
//! with camelCase keys and times in milliseconds. Missing keys keep the
//! `spoor-core` defaults (DESIGN.md's client defaults).

use alloc::string::{String, ToString};
use core::time::Duration;

use spoor_core::{Config, ConsentMode, JsonError, Library, Properties};

use crate::call::non_negative;

/// Why a configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    /// The message, the same text as `Display` gives, without `core::fmt`
    /// (which this crate's WASM leaves out).
    pub fn message(&self) -> String {
        let mut out = String::from("invalid config: ");
        out.push_str(&self.0);
        out
    }
}

/// Reads a configuration such as
/// `{"flushAt":20,"flushInterval":10000,"requireConsent":true,"context":{...}}`.
///
/// Keys: `library` (`{name, version}`), `context` (object added to every
/// event), `flushAt`, `flushInterval`, `maxBatchEvents`, `maxBatchBytes`,
/// `maxEventBytes`, `maxQueueEvents`, `maxQueueBytes`, `maxPendingEvents`,
/// `retryBase`, `retryCap`, `sessionTimeout` (ms), `requireConsent` (bool) and
/// `defaultCategory`. Unknown keys are ignored.
pub fn parse_config(json: &str) -> Result<Config, ConfigError> {
    let map = Properties::from_json(json).map_err(|e| match e {
        JsonError::NotAnObject => ConfigError("expected a JSON object".into()),
        e => ConfigError(e.as_str().into()),
    })?;
    let mut config = Config::default();
    if let Some(library) = map.get_object("library") {
        config.library = Library {
            name: library
                .get_str("name")
                .map_or_else(|| "spoor-browser".into(), |n| n.into_owned()),
            version: library
                .get_str("version")
                .map(|v| v.into_owned())
                .unwrap_or_default(),
        };
    }
    match map.get_json("context") {
        None | Some("null") => {}
        Some(_) => {
            config.context = map
                .get_object("context")
                .ok_or_else(|| ConfigError("context must be an object".into()))?;
        }
    }
    set_count(&map, "flushAt", &mut config.flush_at)?;
    set_count(&map, "maxBatchEvents", &mut config.max_batch_events)?;
    set_count(&map, "maxBatchBytes", &mut config.max_batch_bytes)?;
    set_count(&map, "maxEventBytes", &mut config.max_event_bytes)?;
    set_count(&map, "maxQueueEvents", &mut config.max_queue_events)?;
    set_count(&map, "maxQueueBytes", &mut config.max_queue_bytes)?;
    set_count(&map, "maxPendingEvents", &mut config.max_pending_events)?;
    set_millis(&map, "flushInterval", &mut config.flush_interval)?;
    set_millis(&map, "retryBase", &mut config.retry_base)?;
    set_millis(&map, "retryCap", &mut config.retry_cap)?;
    set_millis(&map, "sessionTimeout", &mut config.session_timeout)?;
    match map.get_json("requireConsent") {
        None | Some("null") => {}
        Some("true") => config.consent_mode = ConsentMode::RequireDecision,
        Some("false") => config.consent_mode = ConsentMode::GrantedUntilDecided,
        Some(_) => return Err(ConfigError("requireConsent must be a boolean".into())),
    }
    if let Some(category) = map.get_str("defaultCategory").filter(|c| !c.is_empty()) {
        config.default_category = category.into_owned();
    }
    Ok(config)
}

fn number(map: &Properties, key: &str) -> Result<Option<u64>, ConfigError> {
    match map.get_json(key) {
        None | Some("null") => Ok(None),
        Some(value) => non_negative(value).map(Some).ok_or_else(|| {
            let mut message = key.to_string();
            message.push_str(" must be a non-negative number");
            ConfigError(message)
        }),
    }
}

fn set_count(map: &Properties, key: &str, slot: &mut usize) -> Result<(), ConfigError> {
    if let Some(n) = number(map, key)? {
        *slot = usize::try_from(n).unwrap_or(usize::MAX).max(1);
    }
    Ok(())
}

fn set_millis(map: &Properties, key: &str, slot: &mut Duration) -> Result<(), ConfigError> {
    if let Some(n) = number(map, key)? {
        *slot = Duration::from_millis(n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_keeps_core_defaults() {
        assert_eq!(parse_config("{}").unwrap(), Config::default());
    }

    #[test]
    fn reads_camel_case_keys_in_millis() {
        let config = parse_config(
            r#"{"flushAt":5,"flushInterval":2500,"maxBatchBytes":60000,"requireConsent":false,
                "defaultCategory":"product","library":{"name":"spoor-browser","version":"0.1.0"},
                "context":{"locale":"en-GB"},"unknown":1}"#,
        )
        .unwrap();
        assert_eq!(config.flush_at, 5);
        assert_eq!(config.flush_interval, Duration::from_millis(2500));
        assert_eq!(config.max_batch_bytes, 60_000);
        assert_eq!(config.consent_mode, ConsentMode::GrantedUntilDecided);
        assert_eq!(config.default_category, "product");
        assert_eq!(config.library.name, "spoor-browser");
        assert_eq!(config.context.get_str("locale").as_deref(), Some("en-GB"));
    }

    #[test]
    fn message_is_the_display_text() {
        let error = parse_config(r#"{"flushAt":-1}"#).unwrap_err();
        assert_eq!(error.message(), error.to_string());
        assert_eq!(
            error.message(),
            "invalid config: flushAt must be a non-negative number"
        );
    }

    #[test]
    fn rejects_wrong_types() {
        assert!(parse_config("[]").is_err());
        assert!(parse_config(r#"{"flushAt":-1}"#).is_err());
        assert!(parse_config(r#"{"flushAt":"many"}"#).is_err());
        assert!(parse_config(r#"{"requireConsent":"yes"}"#).is_err());
        assert!(parse_config(r#"{"context":[1]}"#).is_err());
        assert!(parse_config("not json").is_err());
    }
}
