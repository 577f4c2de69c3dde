//! Spoor's pipeline: tails the relay's log, dedupes, sessionizes, writes Parquet and aggregates.
