//! Sends a plan to a running relay through the Spoor Rust SDK.

use std::time::Duration;

use serde_json::{Value, json};
use spoor::{Options, Spoor};

use crate::model::Plan;

/// Why a demo run failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The SDK refused to start or a call failed.
    #[error("the SDK: {0}")]
    Sdk(#[from] spoor::Error),
    /// A raw HTTP request failed.
    #[error("posting to the relay: {0}")]
    Http(#[from] reqwest::Error),
    /// The relay refused the write key.
    #[error("the relay refused the write key ({0}); pass the key `spoor up` printed")]
    Unauthorized(u16),
}

/// What a run sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Calls sent through the SDK and acknowledged.
    pub delivered: u64,
    /// Calls the SDK could not deliver (dropped after a 4xx or a full queue).
    pub undelivered: u64,
    /// Events posted twice with the same eventId.
    pub duplicates: usize,
    /// Events that arrived hours after they happened.
    pub late: usize,
    /// Events the relay refused (they are in the dead-letter log).
    pub invalid: usize,
}

/// Sends `plan` to the relay at `endpoint`; `progress(done, total)` is called as calls go out.
pub async fn send(
    plan: &Plan,
    endpoint: &str,
    write_key: &str,
    progress: impl Fn(usize, usize),
) -> Result<Summary, DemoError> {
    let http = reqwest::Client::new();
    let batch_url = format!("{}/api/events/batch", endpoint.trim_end_matches('/'));
    // Check the key first so a wrong key is one clear error, not thousands of drops. An
    // empty batch is refused after the key is checked, so the probe adds no event (one sent
    // here, ahead of the rest, would move the pipeline's watermark and make them all late).
    let probe = http
        .post(&batch_url)
        .bearer_auth(write_key)
        .json(&json!({"batch": []}))
        .send()
        .await?;
    if matches!(probe.status().as_u16(), 401 | 403) {
        return Err(DemoError::Unauthorized(probe.status().as_u16()));
    }
    let spoor = Spoor::start(Options::new(endpoint, write_key))?;
    let total = plan.calls.len() + plan.late.len();
    for (i, call) in plan.calls.iter().chain(&plan.late).enumerate() {
        spoor.record(call.message.clone())?;
        if i % 2_000 == 1_999 {
            spoor.flush(Duration::from_secs(60)).await?;
            progress(i + 1, total);
        }
    }
    let stats = spoor.shutdown(Duration::from_secs(60)).await?;
    progress(total, total);
    // Events sent twice: a client that retried after losing the answer.
    post(&http, &batch_url, write_key, &plan.duplicates).await?;
    post(&http, &batch_url, write_key, &plan.duplicates).await?;
    post(&http, &batch_url, write_key, &plan.invalid).await?;
    Ok(Summary {
        delivered: stats.core.delivered,
        undelivered: stats.core.dropped_queue_full
            + stats.core.dropped_rejected
            + stats.dropped_overloaded
            + stats.refused,
        duplicates: plan.duplicates.len(),
        late: plan.late.len(),
        invalid: plan.invalid.len(),
    })
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    events: &[Value],
) -> Result<(), DemoError> {
    if events.is_empty() {
        return Ok(());
    }
    http.post(url)
        .bearer_auth(key)
        .json(&json!({ "batch": events }))
        .send()
        .await?;
    Ok(())
}
