//! Spoor's HTTP collector: auth, limits, schema validation, enrichment and the durable log.
