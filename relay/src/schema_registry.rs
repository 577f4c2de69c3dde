//! The schema registry: every `schemas/events/<name>.v<N>.json`, compiled once.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use spoor_schemas::EMBEDDED_SCHEMAS;

/// Lifecycle state of a schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaStatus {
    /// In use.
    Active,
    /// Still accepted, counted, and to be replaced.
    Deprecated,
}

/// One compiled schema version.
pub struct EventSchema {
    /// Event name.
    pub name: String,
    /// Version number.
    pub version: u32,
    /// Active or deprecated.
    pub status: SchemaStatus,
    /// Properties marked `x-pii`.
    pub pii: Vec<String>,
    validator: jsonschema::Validator,
}

/// The outcome of checking an event's properties.
#[derive(Debug, PartialEq)]
pub enum SchemaCheck<'a> {
    /// Valid against this version.
    Valid {
        /// Version used.
        version: u32,
        /// The version is deprecated.
        deprecated: bool,
        /// Its `x-pii` properties.
        pii: &'a [String],
    },
    /// No schema for this event name.
    UnknownEvent,
    /// The event asks for a version that does not exist.
    UnknownVersion(u32),
    /// The properties break the schema; the message names the property.
    Invalid {
        /// Version used.
        version: u32,
        /// First violation, with its JSON pointer.
        message: String,
    },
}

/// Why the registry could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A schema file is not JSON or not a valid JSON Schema.
    #[error("schema {file}: {message}")]
    Invalid {
        /// The file name.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// All known event schemas, by name and version.
#[derive(Default)]
pub struct SchemaRegistry {
    events: HashMap<String, BTreeMap<u32, EventSchema>>,
}

impl SchemaRegistry {
    /// The registry shipped in the binary (`schemas/events/`).
    pub fn embedded() -> Result<Self, RegistryError> {
        Self::from_files(EMBEDDED_SCHEMAS.iter().copied())
    }

    /// Builds a registry from `(file name, JSON text)` pairs.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, RegistryError> {
        let mut registry = SchemaRegistry::default();
        for (file, text) in files {
            let invalid = |message: String| RegistryError::Invalid {
                file: file.to_string(),
                message,
            };
            let schema: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
            let name = schema["x-event"]
                .as_str()
                .ok_or_else(|| invalid("missing \"x-event\"".into()))?
                .to_string();
            let version = schema["x-version"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| invalid("missing or bad \"x-version\"".into()))?;
            let status = match schema["x-status"].as_str().unwrap_or("active") {
                "active" => SchemaStatus::Active,
                "deprecated" => SchemaStatus::Deprecated,
                other => return Err(invalid(format!("unknown x-status {other:?}"))),
            };
            let pii = schema["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .filter(|(_, p)| p["x-pii"].as_bool() == Some(true))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            let validator =
                jsonschema::validator_for(&schema).map_err(|e| invalid(e.to_string()))?;
            registry.events.entry(name.clone()).or_default().insert(
                version,
                EventSchema {
                    name,
                    version,
                    status,
                    pii,
                    validator,
                },
            );
        }
        Ok(registry)
    }

    /// Number of schema versions known.
    pub fn len(&self) -> usize {
        self.events.values().map(BTreeMap::len).sum()
    }

    /// True when no schema is known.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every schema version, by name then version.
    pub fn schemas(&self) -> impl Iterator<Item = &EventSchema> {
        let mut names: Vec<_> = self.events.keys().collect();
        names.sort();
        names.into_iter().flat_map(|n| self.events[n].values())
    }

    /// Checks `properties` of event `name` against the requested version, or
    /// the newest active one (the newest deprecated one if none is active).
    pub fn check(&self, name: &str, version: Option<u32>, properties: &Value) -> SchemaCheck<'_> {
        let Some(versions) = self.events.get(name) else {
            return SchemaCheck::UnknownEvent;
        };
        let schema = match version {
            Some(v) => match versions.get(&v) {
                Some(s) => s,
                None => return SchemaCheck::UnknownVersion(v),
            },
            None => match versions
                .values()
                .rev()
                .find(|s| s.status == SchemaStatus::Active)
                .or_else(|| versions.values().next_back())
            {
                Some(s) => s,
                None => return SchemaCheck::UnknownEvent,
            },
        };
        // `is_valid` is the validator's fast path; errors are collected only
        // for an event that fails, to name the first one.
        let error = if schema.validator.is_valid(properties) {
            None
        } else {
            schema.validator.iter_errors(properties).next()
        };
        match error {
            None => SchemaCheck::Valid {
                version: schema.version,
                deprecated: schema.status == SchemaStatus::Deprecated,
                pii: &schema.pii,
            },
            Some(error) => {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() {
                    String::new()
                } else {
                    format!(" at properties{path}")
                };
                SchemaCheck::Invalid {
                    version: schema.version,
                    message: format!("{error}{at}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_plan_compiles_and_checks() {
        let r = SchemaRegistry::embedded().unwrap();
        assert!(r.len() >= 11);
        let ok = json!({"productId": "p123", "category": "shoes", "surface": "home"});
        assert!(matches!(
            r.check("product_clicked", None, &ok),
            SchemaCheck::Valid {
                version: 1,
                deprecated: false,
                ..
            }
        ));
        let wrong = json!({"productId": 5, "category": "shoes", "surface": "home"});
        match r.check("product_clicked", None, &wrong) {
            SchemaCheck::Invalid { message, .. } => {
                assert!(message.contains("productId"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let missing = json!({"orderId": "o1", "currency": "EUR"});
        assert!(matches!(
            r.check("purchase_completed", None, &missing),
            SchemaCheck::Invalid { .. }
        ));
        assert_eq!(r.check("nope", None, &json!({})), SchemaCheck::UnknownEvent);
        assert_eq!(
            r.check("signed_up", Some(9), &json!({})),
            SchemaCheck::UnknownVersion(9)
        );
        assert!(matches!(
            r.check("cart_viewed", None, &json!({})),
            SchemaCheck::Valid {
                deprecated: true,
                ..
            }
        ));
        match r.check(
            "purchase_completed",
            None,
            &json!({"orderId": "o", "revenue": 1.5, "currency": "EUR"}),
        ) {
            SchemaCheck::Valid { pii, .. } => assert_eq!(pii, ["email".to_string()]),
            other => panic!("{other:?}"),
        }
    }
}
