//! Identity stitching: `identify`, `alias`, and any event carrying both a
//! userId and an anonymousId link ids to a person, so that analytics count a
//! person once across devices and before and after login.
//!
//! The first link of an id wins. Links learned in a range are written to
//! `tables/identities/part-A-B.parquet`; on start they are loaded back.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampMillisecondBuilder};
use arrow::datatypes::{Field, Schema};
use rustc_hash::FxHashMap;
use spoor_log::event::EventType;

use crate::columns;
use crate::error::PipelineError;
use crate::range_file;
use crate::sink::parquet_file::{self, timestamp_type};
use crate::stage::{Batch, CommitContext, Stage};
use crate::writer::Output;

/// One link: an id that belongs to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    /// The linked id (an anonymousId, or a previous userId for alias).
    pub anonymous_id: String,
    /// The person (a userId).
    pub person_id: String,
    /// Event time of the linking event (epoch ms).
    pub event_time: i64,
    /// The linking event.
    pub event_id: String,
}

/// The identity stage: a map from linked ids to persons.
#[derive(Default)]
pub struct Identity {
    links: FxHashMap<String, String>,
    fresh: Vec<IdentityLink>,
}

impl Identity {
    /// An empty graph.
    pub fn new() -> Self {
        Identity::default()
    }

    /// Loads the links of committed ranges (files ending before `committed`).
    pub fn load(&mut self, dir: &Path, committed: u64) -> Result<(), PipelineError> {
        for link in read_links(dir, committed)? {
            self.links
                .entry(link.anonymous_id)
                .or_insert(link.person_id);
        }
        Ok(())
    }

    /// Number of linked ids.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// True when no id is linked.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The person `id` belongs to (itself when unlinked).
    pub fn resolve<'s>(&'s self, id: &'s str) -> &'s str {
        let mut current = id;
        for _ in 0..32 {
            match self.links.get(current) {
                Some(next) if next != current => current = next,
                _ => break,
            }
        }
        current
    }

    /// Links `id` to the person of `person`; returns the link when it is new.
    fn link(&mut self, id: &str, person: &str) -> Option<String> {
        if id.is_empty() || person.is_empty() || id == person || self.links.contains_key(id) {
            return None;
        }
        let root = self.resolve(person).to_string();
        if root == id {
            return None;
        }
        self.links.insert(id.to_string(), root.clone());
        Some(root)
    }
}

impl Stage for Identity {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn process(&mut self, batch: &mut Batch<'_>) {
        for event in &mut batch.events {
            if event.duplicate {
                continue;
            }
            let pair = match (
                event.event_type,
                &event.previous_id,
                &event.user_id,
                &event.anonymous_id,
            ) {
                (EventType::Alias, Some(prev), Some(user), _) => Some((prev.clone(), user.clone())),
                (_, _, Some(user), Some(anon)) => Some((anon.clone(), user.clone())),
                _ => None,
            };
            if let Some((id, user)) = pair
                && let Some(root) = self.link(&id, &user)
            {
                self.fresh.push(IdentityLink {
                    anonymous_id: id.to_string(),
                    person_id: root.clone(),
                    event_time: event.event_time,
                    event_id: event.event_id.to_string(),
                });
                event.link = Some((id.into_owned(), root));
            }
            let own = event
                .user_id
                .as_deref()
                .or(event.anonymous_id.as_deref())
                .unwrap_or("");
            let person = self.resolve(own);
            if person != own {
                event.person_id = Cow::Owned(person.to_string());
            }
        }
    }

    fn commit(
        &mut self,
        _batch: &Batch<'_>,
        ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError> {
        let fresh = std::mem::take(&mut self.fresh);
        ctx.table_file(ctx.layout.identities(), fresh.is_empty(), move || {
            to_batch(&fresh)
        })
    }
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("anonymous_id", arrow::datatypes::DataType::Utf8, false),
        Field::new("person_id", arrow::datatypes::DataType::Utf8, false),
        Field::new("event_time", timestamp_type(), false),
        Field::new("event_id", arrow::datatypes::DataType::Utf8, false),
    ]))
}

fn to_batch(links: &[IdentityLink]) -> Result<RecordBatch, PipelineError> {
    let mut anon = StringBuilder::new();
    let mut person = StringBuilder::new();
    let mut time = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let mut id = StringBuilder::new();
    for l in links {
        anon.append_value(&l.anonymous_id);
        person.append_value(&l.person_id);
        time.append_value(l.event_time);
        id.append_value(&l.event_id);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(anon.finish()),
        Arc::new(person.finish()),
        Arc::new(time.finish()),
        Arc::new(id.finish()),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

fn read_links(dir: &Path, below: u64) -> Result<Vec<IdentityLink>, PipelineError> {
    let mut out = Vec::new();
    for file in range_file::list_current(dir)? {
        if file.last >= below {
            continue;
        }
        for batch in parquet_file::read(&file.path)? {
            for row in 0..batch.num_rows() {
                out.push(IdentityLink {
                    anonymous_id: columns::text(&batch, "anonymous_id", row).unwrap_or_default(),
                    person_id: columns::text(&batch, "person_id", row).unwrap_or_default(),
                    event_time: columns::timestamp(&batch, "event_time", row).unwrap_or_default(),
                    event_id: columns::text(&batch, "event_id", row).unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}

/// Every linked id of `data_dir` with its person, chains resolved (`anonymous_id → person_id`).
pub fn read(data_dir: &Path) -> Result<HashMap<String, String>, PipelineError> {
    let dir = crate::layout::Layout::new(data_dir).identities();
    // The pipeline may merge these files while they are read.
    let identity = range_file::retry_vanished(PipelineError::is_not_found, || {
        let mut identity = Identity::new();
        identity.load(&dir, u64::MAX)?;
        Ok(identity)
    })?;
    let resolved = identity
        .links
        .keys()
        .map(|id| (id.clone(), identity.resolve(id).to_string()))
        .collect();
    Ok(resolved)
}
