//! Erasing a user: `DELETE /api/users/{id}` (and `spoor delete-user`).
//!
//! The relay erases the user's records from the event log and the dead-letter
//! log in place ([`spoor_log::erase`]: same length, same offsets), refuses
//! their later events (`user_erased`, stored nowhere), and records the erasure
//! in the log's ledger; the pipeline sees the ledger grow and rebuilds its
//! outputs (`raw/`, `tables/`) from the log, which no longer holds the user.
//!
//! The user is the id given, plus the anonymous ids the log links to it: the
//! `anonymousId` of any record that carries the `userId`, and the `previousId`
//! of an alias to it. A record goes if its `userId` is the id, if it has no
//! `userId` and one of those anonymous ids (or the id itself: a visitor who
//! never signed in is erased by their anonymous id), or if it is an alias from
//! one of them. Events of another user that share a device's anonymous id stay.
//!
//! No event of the user is left behind by a request in flight: ingestion holds
//! [`RelayState::ingest_gate`] for reading from its check of the erased ids
//! until its records are queued for the log; the erasure takes it for writing
//! to add ids, then waits for everything queued before to be durable, then
//! reads the log up to there.

use std::collections::HashSet;
use std::path::Path;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use serde_json::Value;
use spoor_log::erase::{self, ErasedUser};
use spoor_log::{LogError, LogReader};

use crate::error::ApiError;
use crate::ingest_route::{submit, wait};
use crate::server::{RelayState, dead_letter_dir, log_dir};

/// The refusal code of an erased user's event.
pub const USER_ERASED: &str = "user_erased";

/// The ids whose events the relay refuses: every user and linked anonymous id in the ledger.
#[derive(Debug, Default)]
pub struct ErasedIds {
    any: AtomicBool,
    ids: RwLock<HashSet<String>>,
}

impl ErasedIds {
    /// The ids of the ledger of the log in `log_dir`.
    pub fn load(log_dir: &Path) -> Result<Self, LogError> {
        let erased = ErasedIds::default();
        for user in erase::ledger(log_dir)? {
            erased.insert(std::iter::once(user.user_id).chain(user.anonymous_ids));
        }
        Ok(erased)
    }

    /// True while no user has been erased (one atomic load).
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// True when `id` belongs to an erased user.
    pub fn contains(&self, id: &str) -> bool {
        !self.is_empty() && self.ids.read().is_ok_and(|ids| ids.contains(id))
    }

    fn insert(&self, ids: impl IntoIterator<Item = String>) {
        if let Ok(mut set) = self.ids.write() {
            set.extend(ids);
            self.any.store(!set.is_empty(), Ordering::Release);
        }
    }
}

/// The ids of a record that an erasure looks at.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ids {
    #[serde(rename = "type", default)]
    event_type: Option<Value>,
    #[serde(default)]
    user_id: Option<Value>,
    #[serde(default)]
    anonymous_id: Option<Value>,
    #[serde(default)]
    previous_id: Option<Value>,
}

/// A dead letter's event, whose ids are as the client sent them.
#[derive(Debug, Deserialize)]
struct DeadLetterIds {
    #[serde(default)]
    event: Ids,
}

/// An id as text: a string as it is, a number as written (the relay stores ids that way).
fn text(value: &Option<Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

impl Ids {
    fn of_record(payload: &[u8]) -> Ids {
        serde_json::from_slice(payload).unwrap_or_default()
    }

    fn of_dead_letter(payload: &[u8]) -> Ids {
        serde_json::from_slice::<DeadLetterIds>(payload)
            .map_or_else(|_| Ids::default(), |d| d.event)
    }

    fn is_alias(&self) -> bool {
        matches!(&self.event_type, Some(Value::String(t)) if t == "alias")
    }

    /// Whether this record is the user's (see the module docs).
    fn belongs_to(&self, user_id: &str, anonymous: &HashSet<String>) -> bool {
        let alias_from = if self.is_alias() {
            text(&self.previous_id)
        } else {
            None
        };
        erased_owner(
            text(&self.user_id).as_deref(),
            text(&self.anonymous_id).as_deref(),
            alias_from.as_deref(),
            |id| id == user_id || anonymous.contains(id),
        )
        .is_some()
    }
}

/// The one rule for whose an event is, for records in the logs and events still
/// arriving alike: its `userId`, or without one its `anonymousId`; an alias is
/// also the event of the id it merges from. Returns that id when `erased` holds it.
pub(crate) fn erased_owner<'a>(
    user: Option<&'a str>,
    anonymous: Option<&'a str>,
    alias_from: Option<&'a str>,
    erased: impl Fn(&str) -> bool,
) -> Option<&'a str> {
    match user {
        Some(user) => [Some(user), alias_from]
            .into_iter()
            .flatten()
            .find(|id| erased(id)),
        None => anonymous.filter(|id| erased(id)),
    }
}

/// Erases `user_id` from the logs (see the module docs) and records it in the
/// ledger; returns the ledger line. One erasure runs at a time.
pub async fn erase_user(state: &RelayState, user_id: &str) -> Result<ErasedUser, ApiError> {
    let _one_at_a_time = state.erasing.lock().await;
    let log = log_dir(&state.config.data_dir);
    let dead = dead_letter_dir(&state.config.data_dir);

    refuse_from_now(state, [user_id.to_string()]).await?;
    let below = state.log.durable_offset().load(Ordering::Acquire);
    let anonymous = {
        let (log, user_id) = (log.clone(), user_id.to_string());
        blocking(move || linked_ids(&log, below, &user_id)).await?
    };
    refuse_from_now(state, anonymous.iter().cloned()).await?;

    let below = state.log.durable_offset().load(Ordering::Acquire);
    let below_dead = state.dead_letter.durable_offset().load(Ordering::Acquire);
    let user = user_id.to_string();
    blocking(move || {
        let mut anonymous_ids: Vec<String> = anonymous.iter().cloned().collect();
        anonymous_ids.sort_unstable();
        let log_records = erase::erase(&log, below, |p| {
            Ids::of_record(p).belongs_to(&user, &anonymous)
        })?;
        let dead_letter_records = erase::erase(&dead, below_dead, |p| {
            Ids::of_dead_letter(p).belongs_to(&user, &anonymous)
        })?;
        let erased = ErasedUser {
            user_id: user,
            anonymous_ids,
            erased_at: crate::enrich::format_time(time::OffsetDateTime::now_utc()),
            log_records,
            dead_letter_records,
        };
        erase::record(&log, &erased)?;
        Ok(erased)
    })
    .await
}

/// Adds `ids` to the refused ones, then waits until every record queued
/// before (by requests that passed the check without them) is durable.
async fn refuse_from_now(
    state: &RelayState,
    ids: impl IntoIterator<Item = String>,
) -> Result<(), ApiError> {
    {
        let _no_request_between_check_and_queue = state.ingest_gate.write().await;
        state.ingestor.erased.insert(ids);
    }
    for log in [&state.log, &state.dead_letter] {
        wait(submit(log, Vec::new()))
            .await
            .map_err(|e| ApiError::unavailable("log_unavailable", e.message, 5))?;
    }
    Ok(())
}

/// The anonymous ids the log below `below` links to `user_id`.
fn linked_ids(log: &Path, below: u64, user_id: &str) -> Result<HashSet<String>, LogError> {
    let mut linked = HashSet::new();
    let mut reader = LogReader::open(log, 0)?;
    while let Some((offset, payload)) = reader.next_record()? {
        if offset >= below {
            break;
        }
        if erase::is_erased(&payload) {
            continue;
        }
        let ids = Ids::of_record(&payload);
        if text(&ids.user_id).as_deref() == Some(user_id) {
            linked.extend(text(&ids.anonymous_id));
            if ids.is_alias() {
                linked.extend(text(&ids.previous_id));
            }
        }
    }
    linked.remove(user_id);
    Ok(linked)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, LogError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("erasing: {e}")))?
        .map_err(|e| {
            if e.is_storage_full() {
                ApiError::unavailable("storage_full", "the relay's disk is full; retry later", 30)
            } else {
                ApiError::internal(format!("erasing: {e}"))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(json: &str) -> Ids {
        Ids::of_record(json.as_bytes())
    }

    #[test]
    fn a_record_belongs_to_the_user_by_id_or_by_a_linked_anonymous_id() {
        let anonymous: HashSet<String> = ["a1".to_string()].into();
        assert!(ids(r#"{"userId":"alice"}"#).belongs_to("alice", &anonymous));
        assert!(ids(r#"{"anonymousId":"a1"}"#).belongs_to("alice", &anonymous));
        assert!(
            ids(r#"{"type":"alias","userId":"bob","previousId":"a1"}"#)
                .belongs_to("alice", &anonymous)
        );
        assert!(!ids(r#"{"userId":"bob","anonymousId":"a1"}"#).belongs_to("alice", &anonymous));
        assert!(!ids(r#"{"anonymousId":"a2"}"#).belongs_to("alice", &anonymous));
        assert!(ids(r#"{"userId":42}"#).belongs_to("42", &anonymous));
        // A visitor who never signed in, erased by their anonymous id.
        assert!(ids(r#"{"anonymousId":"a9"}"#).belongs_to("a9", &HashSet::new()));
        assert!(!ids(r#"{"userId":"carol","anonymousId":"a9"}"#).belongs_to("a9", &HashSet::new()));
        assert!(!ids("not json").belongs_to("alice", &anonymous));
        let dead = Ids::of_dead_letter(br#"{"reason":"x","event":{"userId":"alice"}}"#);
        assert!(dead.belongs_to("alice", &anonymous));
    }
}
