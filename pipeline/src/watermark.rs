//! The event-time watermark and lateness.
//!
//! The watermark is the newest event time seen (each capped at the event's
//! `receivedAt`, so a client clock in the future cannot push it ahead) minus
//! the allowed lateness. An event behind the watermark is late: it still goes
//! to raw storage (flagged `late`), but not into sessions or the real-time
//! aggregates, which only close what is behind the watermark.

use serde::{Deserialize, Serialize};

use crate::error::PipelineError;
use crate::stage::{Batch, CommitContext, Stage};
use crate::writer::Output;

/// The watermark's state (checkpointed).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Watermark {
    /// Newest capped event time seen (epoch ms), `i64::MIN` before any.
    pub max_event_time: i64,
    /// Allowed lateness in ms.
    pub lateness_ms: i64,
    /// Late events in the current batch.
    #[serde(skip)]
    pub batch_late: u64,
}

impl Watermark {
    /// A watermark with nothing seen yet.
    pub fn new(lateness_ms: i64) -> Self {
        Watermark {
            max_event_time: i64::MIN,
            lateness_ms,
            batch_late: 0,
        }
    }

    /// Event times before this are final.
    pub fn value(&self) -> i64 {
        self.max_event_time.saturating_sub(self.lateness_ms)
    }
}

impl Stage for Watermark {
    fn name(&self) -> &'static str {
        "watermark"
    }

    fn process(&mut self, batch: &mut Batch<'_>) {
        self.batch_late = 0;
        for event in &mut batch.events {
            if event.duplicate {
                continue;
            }
            event.watermark = self.value();
            event.late = event.event_time < event.watermark;
            if event.late {
                self.batch_late += 1;
            }
            self.max_event_time = self
                .max_event_time
                .max(event.event_time.min(event.received_at));
        }
    }

    fn commit(
        &mut self,
        _batch: &Batch<'_>,
        _ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError> {
        Ok(Vec::new())
    }
}
