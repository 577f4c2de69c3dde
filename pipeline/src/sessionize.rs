//! Sessionization: per person, events in event-time order, a new session
//! after `session_timeout` of inactivity.
//!
//! Sessions stay live until the watermark passes their end plus the timeout;
//! until then a late event can still land in them (extending their start or
//! end, re-opening one that had timed out). Closed sessions are written to
//! `tables/sessions/part-A-B.parquet`, live ones to `tables/sessions/open.parquet`.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::columns;
use crate::error::PipelineError;
use crate::event::Event;
use crate::fingerprint::{FingerprintBuild, fingerprint};
use crate::layout::Layout;
use crate::range_file;
use crate::sink::parquet_file::{self, timestamp_type};
use crate::stage::{Batch, CommitContext, Stage};
use crate::writer::Output;

/// File name of the live sessions in `tables/sessions`.
pub const OPEN_FILE: &str = "open.parquet";

/// Name prefix of the files holding sessions the batch path opened (`late-A-B.parquet`, A
/// and B the log offsets of the first and last event it placed in them).
pub const LATE_PREFIX: &str = "late-";

/// One session, as stored in `tables/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Id (16 hex digits in tables and raw rows).
    pub session_id: u64,
    /// Person.
    pub person_id: String,
    /// First event time (epoch ms).
    pub start_time: i64,
    /// Last event time (epoch ms).
    pub end_time: i64,
    /// Events in the session.
    pub event_count: i64,
    /// Page of the earliest event that has one.
    pub entry_page: Option<String>,
    /// Its time.
    pub entry_time: i64,
    /// Page of the latest event that has one.
    pub exit_page: Option<String>,
    /// Its time.
    pub exit_time: i64,
    /// Campaign source of the first event.
    pub utm_source: Option<String>,
    /// Campaign medium of the first event.
    pub utm_medium: Option<String>,
    /// Campaign name of the first event.
    pub utm_campaign: Option<String>,
    /// Referrer of the first event.
    pub referrer: Option<String>,
    /// Source of the first event.
    pub source: String,
    /// The first event.
    pub first_event_id: String,
}

impl Session {
    pub(crate) fn open(person: &str, event: &Event<'_>) -> Self {
        let page = event.page.as_deref().map(str::to_string);
        Session {
            session_id: fingerprint(&[person, &event.event_id]),
            person_id: person.to_string(),
            start_time: event.event_time,
            end_time: event.event_time,
            event_count: 1,
            entry_time: if page.is_some() {
                event.event_time
            } else {
                i64::MAX
            },
            exit_time: if page.is_some() {
                event.event_time
            } else {
                i64::MIN
            },
            entry_page: page.clone(),
            exit_page: page,
            utm_source: event.utm_source.as_deref().map(str::to_string),
            utm_medium: event.utm_medium.as_deref().map(str::to_string),
            utm_campaign: event.utm_campaign.as_deref().map(str::to_string),
            referrer: event.referrer.as_deref().map(str::to_string),
            source: event.source.to_string(),
            first_event_id: event.event_id.to_string(),
        }
    }

    pub(crate) fn add(&mut self, event: &Event<'_>) {
        let t = event.event_time;
        self.event_count += 1;
        if t < self.start_time {
            self.start_time = t;
            set(&mut self.utm_source, event.utm_source.as_deref());
            set(&mut self.utm_medium, event.utm_medium.as_deref());
            set(&mut self.utm_campaign, event.utm_campaign.as_deref());
            set(&mut self.referrer, event.referrer.as_deref());
            self.source.clear();
            self.source.push_str(&event.source);
            self.first_event_id.clear();
            self.first_event_id.push_str(&event.event_id);
        }
        self.end_time = self.end_time.max(t);
        if let Some(page) = event.page.as_deref() {
            if t < self.entry_time {
                self.entry_time = t;
                set(&mut self.entry_page, Some(page));
            }
            if t >= self.exit_time {
                self.exit_time = t;
                set(&mut self.exit_page, Some(page));
            }
        }
    }

    /// Whether an event at `t` falls into this session ([`falls_into`]).
    pub fn covers(&self, t: i64, gap: i64) -> bool {
        falls_into(t, self.start_time, self.end_time, gap)
    }

    /// The id as written to tables: 16 lowercase hex digits.
    pub fn id_text(&self) -> String {
        session_id_text(self.session_id)
    }
}

/// Whether an event at `t` falls into a session from `start` to `end`: less than `gap` (the
/// session timeout) before its start or after its end.
pub fn falls_into(t: i64, start: i64, end: i64, gap: i64) -> bool {
    start.saturating_sub(gap) < t && t < end.saturating_add(gap)
}

/// Whether a closed session ending at `end` is still kept for late events when the watermark
/// is at `watermark`: `keep` is the session timeout plus the hours closed sessions are kept.
pub fn still_kept(end: i64, keep: i64, watermark: i64) -> bool {
    end.saturating_add(keep) > watermark
}

/// Sets `slot` to `value`, reusing its allocation.
fn set(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (_, v) => *slot = v.map(str::to_string),
    }
}

/// Sessions closed by one close of the sessionizer, kept for late events, with an index by
/// person key.
struct ClosedBatch {
    /// First log offset of the range whose table file holds them.
    range_first: u64,
    /// Latest end among them.
    max_end: i64,
    /// The sessions, shared with the table file's writer.
    sessions: Arc<Vec<Session>>,
    /// Which were re-opened (and so are no longer kept).
    taken: Vec<bool>,
    /// The first session of each person key; `next` chains the others.
    first: HashMap<u64, u32, FingerprintBuild>,
    next: Vec<u32>,
}

impl ClosedBatch {
    /// A batch of `sessions`; none when there are none.
    fn new(range_first: u64, sessions: Arc<Vec<Session>>) -> Option<ClosedBatch> {
        let max_end = sessions.iter().map(|s| s.end_time).max()?;
        let mut first: HashMap<u64, u32, FingerprintBuild> = HashMap::default();
        first.reserve(sessions.len());
        let mut next = vec![u32::MAX; sessions.len()];
        for (i, s) in sessions.iter().enumerate().rev() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(previous) = first.insert(person_key(&s.person_id), index) {
                next[i] = previous;
            }
        }
        Some(ClosedBatch {
            range_first,
            max_end,
            taken: vec![false; sessions.len()],
            sessions,
            first,
            next,
        })
    }

    /// The indexes of the sessions whose person has key `key` (and of people whose key
    /// collides with it).
    fn of(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.first.get(&key).copied().unwrap_or(u32::MAX);
        std::iter::from_fn(move || {
            let i = at as usize;
            at = *self.next.get(i)?;
            Some(i)
        })
    }
}

/// When the first of `list`'s sessions may close: its end plus the timeout.
fn first_due(list: &[Session], timeout_ms: i64) -> Option<i64> {
    list.iter()
        .map(|s| s.end_time.saturating_add(timeout_ms))
        .min()
}

/// The key of a person's list of live sessions (a fast hash: a collision only puts two
/// people's sessions in one list).
fn person_key(person: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(person)
}

/// A session id as text.
pub fn session_id_text(id: u64) -> String {
    format!("{id:016x}")
}

/// The sessionizer stage.
pub struct Sessionizer {
    timeout_ms: i64,
    /// Live sessions by a hash of their person ([`person_key`]), ordered by start (should
    /// two people's hashes collide, their sessions share a list: each names its person).
    live: HashMap<u64, Vec<Session>, FingerprintBuild>,
    /// When a list's sessions may close, earliest first: (end + timeout, list). Every live
    /// list has an entry no later than its earliest session's; an entry may be early (its
    /// sessions grew since), and then closes nothing and is put back at the list's next.
    due: BinaryHeap<Reverse<(i64, u64)>>,
    /// Sessions closed since the last range's commit (then shared by its table file and `recent`).
    closed: Vec<Session>,
    /// Sessions closed so far in the current commit.
    pub batch_closed: u64,
    /// Closed sessions an event later than the allowed lateness may still re-open: those
    /// whose end plus the timeout lies less than `recent_ms` behind the watermark of the last
    /// close (`closed_at`), by person key like `live`.
    recent: VecDeque<ClosedBatch>,
    recent_ms: i64,
    closed_at: i64,
    /// Closed sessions re-opened, as (first log offset of the range whose table file holds
    /// the older row, session id): that row is stale.
    pub reopened: BTreeSet<(u64, u64)>,
}

impl Sessionizer {
    /// A sessionizer with live sessions from a checkpoint.
    pub fn new(timeout_ms: i64, live: Vec<Session>) -> Self {
        let mut lists: HashMap<u64, Vec<Session>, FingerprintBuild> = HashMap::default();
        for s in live {
            lists.entry(person_key(&s.person_id)).or_default().push(s);
        }
        for list in lists.values_mut() {
            list.sort_by_key(|s| (s.start_time, s.session_id));
        }
        let due = lists
            .iter()
            .filter_map(|(key, list)| first_due(list, timeout_ms).map(|d| Reverse((d, *key))))
            .collect();
        Sessionizer {
            timeout_ms,
            live: lists,
            due,
            closed: Vec::new(),
            batch_closed: 0,
            recent: VecDeque::new(),
            recent_ms: 0,
            closed_at: i64::MIN,
            reopened: BTreeSet::new(),
        }
    }

    /// Keeps closed sessions for `recent_ms` (of event time, past their end plus the timeout)
    /// so that events later than the allowed lateness re-open them, starting with `recent`
    /// (closed before a restart) as of `watermark` (that of the last close).
    /// `recent` holds, for each table file, the first log offset of its range and its sessions.
    pub fn with_recent(
        mut self,
        recent_ms: i64,
        recent: Vec<(u64, Vec<Session>)>,
        watermark: i64,
    ) -> Self {
        self.recent_ms = recent_ms;
        self.closed_at = watermark;
        for (first, sessions) in recent {
            self.remember(first, Arc::new(sessions));
        }
        self
    }

    /// Adds sessions closed into the table file of the range starting at `first` to `recent`,
    /// as one batch.
    fn remember(&mut self, first: u64, sessions: Arc<Vec<Session>>) {
        if self.recent_ms <= 0 {
            return;
        }
        if let Some(batch) = ClosedBatch::new(first, sessions) {
            self.recent.push_back(batch);
        }
    }

    /// Drops from `recent` the batches `watermark` has left more than `recent_ms` behind
    /// (a batch goes whole, once its last session may go).
    fn forget_behind(&mut self, watermark: i64) {
        let keep = self.timeout_ms.saturating_add(self.recent_ms);
        self.recent
            .retain(|b| still_kept(b.max_end, keep, watermark));
    }

    /// Re-opens the recently closed session of `event`'s person it falls into, adding the
    /// event: the session is live again and closes again at the next commit.
    fn reopen(&mut self, event: &Event<'_>, key: u64) -> Option<u64> {
        let t = event.event_time;
        let gap = self.timeout_ms;
        let keep = gap.saturating_add(self.recent_ms);
        let person = event.person_id.as_ref();
        // An anonymous id linked to its person since: the sessions it had before the link (a
        // visitor's session that closed before they signed in) are the person's too, as the
        // batch path, which resolves identities as they are then, counts them.
        let before_link = event
            .anonymous_id
            .as_deref()
            .filter(|anonymous| event.user_id.is_none() && *anonymous != person);
        let owners = std::iter::once((key, person))
            .chain(before_link.map(|anonymous| (person_key(anonymous), anonymous)));
        // The earliest kept session of the person the event falls into.
        let mut best: Option<(i64, u64, usize, usize)> = None;
        for (owner_key, owner) in owners {
            for (b, batch) in self.recent.iter().enumerate() {
                for i in batch.of(owner_key) {
                    let Some(s) = batch.sessions.get(i).filter(|_| !batch.taken[i]) else {
                        continue;
                    };
                    if s.person_id == owner
                        && still_kept(s.end_time, keep, self.closed_at)
                        && s.covers(t, gap)
                        && best.is_none_or(|x| (s.start_time, s.session_id) < (x.0, x.1))
                    {
                        best = Some((s.start_time, s.session_id, b, i));
                    }
                }
            }
        }
        let (_, _, b, i) = best?;
        let batch = self.recent.get_mut(b)?;
        *batch.taken.get_mut(i)? = true;
        let mut session = batch.sessions.get(i)?.clone();
        session.person_id = person.to_string();
        session.add(event);
        let id = session.session_id;
        self.reopened.insert((batch.range_first, id));
        let live = self.live.entry(key).or_default();
        let pos = live.partition_point(|s| (s.start_time, s.session_id) < (session.start_time, id));
        live.insert(pos, session);
        self.queue(key);
        Some(id)
    }

    /// Puts list `key` in the queue at its earliest session's close.
    fn queue(&mut self, key: u64) {
        if let Some(d) = self
            .live
            .get(&key)
            .and_then(|list| first_due(list, self.timeout_ms))
        {
            self.due.push(Reverse((d, key)));
        }
    }

    /// The live sessions (ordered by person, then start).
    pub fn live(&self) -> Vec<&Session> {
        let mut out: Vec<&Session> = self.live.values().flatten().collect();
        out.sort_by(|a, b| {
            (&a.person_id, a.start_time, a.session_id).cmp(&(
                &b.person_id,
                b.start_time,
                b.session_id,
            ))
        });
        out
    }

    /// Moves `from`'s sessions to person `to`, except those the watermark has already made
    /// final (they close under the id they had, whenever the commit closes them).
    fn rekey(&mut self, from: &str, to: &str, watermark: i64) {
        let gap = self.timeout_ms;
        let from_key = person_key(from);
        if let Some(list) = self.live.get_mut(&from_key) {
            let (mut moved, stay): (Vec<Session>, Vec<Session>) = list
                .drain(..)
                .partition(|s| s.person_id == from && s.end_time.saturating_add(gap) > watermark);
            *list = stay;
            if list.is_empty() {
                self.live.remove(&from_key);
            }
            if moved.is_empty() {
                return;
            }
            for s in &mut moved {
                s.person_id = to.to_string();
            }
            let to_key = person_key(to);
            let list = self.live.entry(to_key).or_default();
            list.extend(moved);
            list.sort_by_key(|s| (s.start_time, s.session_id));
            self.queue(to_key);
        }
    }

    /// Adds `event` to the live session of its person it falls into, if there is one.
    fn join(&mut self, event: &Event<'_>, key: u64) -> Option<u64> {
        let t = event.event_time;
        let gap = self.timeout_ms;
        let person = event.person_id.as_ref();
        let list = self.live.get_mut(&key)?;
        let s = list
            .iter_mut()
            .find(|s| s.person_id == person && s.covers(t, gap))?;
        // A later end needs no new queue entry: the list's entry is early, not late.
        s.add(event);
        let id = s.session_id;
        if list.len() > 1 {
            list.sort_by_key(|s| (s.start_time, s.session_id));
        }
        Some(id)
    }

    /// Adds `event` to the live session it falls into, or opens one.
    fn assign(&mut self, event: &Event<'_>, key: u64) -> u64 {
        if let Some(id) = self.join(event, key) {
            return id;
        }
        let t = event.event_time;
        let person = event.person_id.as_ref();
        let list = self.live.entry(key).or_default();
        let session = Session::open(person, event);
        let id = session.session_id;
        let at = list.partition_point(|s| (s.start_time, s.session_id) < (t, id));
        list.insert(at, session);
        self.due
            .push(Reverse((t.saturating_add(self.timeout_ms), key)));
        id
    }

    /// Closes the sessions the watermark has passed by the timeout: only lists whose queue
    /// entry is due are looked at.
    fn close_behind(&mut self, watermark: i64) {
        let gap = self.timeout_ms;
        let before = self.closed.len();
        while let Some(&Reverse((due, key))) = self.due.peek() {
            if due > watermark {
                break;
            }
            self.due.pop();
            let Some(list) = self.live.get_mut(&key) else {
                continue;
            };
            self.closed
                .extend(list.extract_if(.., |s| s.end_time.saturating_add(gap) <= watermark));
            if list.is_empty() {
                self.live.remove(&key);
            } else {
                self.queue(key);
            }
        }
        self.batch_closed = (self.closed.len() - before) as u64;
        self.closed_at = watermark;
    }
}

impl Stage for Sessionizer {
    fn name(&self) -> &'static str {
        "sessionize"
    }

    fn process(&mut self, batch: &mut Batch<'_>) {
        for event in &mut batch.events {
            if event.duplicate {
                continue;
            }
            if let Some((from, to)) = &event.link {
                self.rekey(from, to, event.watermark);
            }
            // An event later than the allowed lateness joins the live session it falls into,
            // else re-opens the recently closed one it falls into, else opens one when every
            // session it could fall into is known (closed ones are kept for `recent_ms`);
            // otherwise it is left to the batch path (`late_sessions`).
            let key = person_key(&event.person_id);
            event.session_id = if event.late {
                self.join(event, key)
                    .or_else(|| self.reopen(event, key))
                    .or_else(|| {
                        (event.event_time >= event.watermark.saturating_sub(self.recent_ms))
                            .then(|| self.assign(event, key))
                    })
            } else {
                Some(self.assign(event, key))
            };
        }
    }

    fn commit(
        &mut self,
        _batch: &Batch<'_>,
        ctx: &CommitContext<'_>,
    ) -> Result<Vec<Output>, PipelineError> {
        self.close_behind(ctx.watermark);
        // One list shared by the table file and the sessions kept for late events.
        let closed = Arc::new(std::mem::take(&mut self.closed));
        self.remember(ctx.first, Arc::clone(&closed));
        self.forget_behind(ctx.watermark);
        ctx.table_file(ctx.layout.sessions(), closed.is_empty(), move || {
            to_batch(&closed.iter().collect::<Vec<_>>())
        })
    }

    fn persist(&mut self, layout: &Layout, zstd_level: i32) -> Result<Vec<Output>, PipelineError> {
        let open = to_batch(&self.live())?;
        let path = layout.sessions().join(OPEN_FILE);
        Ok(vec![Output::parquet(path, open, zstd_level)])
    }
}

/// Arrow schema of the sessions table.
pub fn schema() -> Arc<Schema> {
    let text = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        text("session_id", false),
        text("person_id", false),
        Field::new("start_time", timestamp_type(), false),
        Field::new("end_time", timestamp_type(), false),
        Field::new("duration_ms", DataType::Int64, false),
        Field::new("event_count", DataType::Int64, false),
        text("entry_page", true),
        text("exit_page", true),
        text("utm_source", true),
        text("utm_medium", true),
        text("utm_campaign", true),
        text("referrer", true),
        text("source", false),
        text("first_event_id", false),
    ]))
}

pub(crate) fn to_batch(sessions: &[&Session]) -> Result<RecordBatch, PipelineError> {
    let text = |f: &dyn Fn(&Session) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for s in sessions {
            b.append_option(f(s));
        }
        Arc::new(b.finish())
    };
    let time = |f: &dyn Fn(&Session) -> i64| -> ArrayRef {
        let mut b = TimestampMillisecondBuilder::new().with_timezone("UTC");
        for s in sessions {
            b.append_value(f(s));
        }
        Arc::new(b.finish())
    };
    let int = |f: &dyn Fn(&Session) -> i64| -> ArrayRef {
        let mut b = Int64Builder::new();
        for s in sessions {
            b.append_value(f(s));
        }
        Arc::new(b.finish())
    };
    let ids: Vec<String> = sessions.iter().map(|s| s.id_text()).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(arrow::array::StringArray::from_iter_values(&ids)),
        text(&|s| Some(&s.person_id)),
        time(&|s| s.start_time),
        time(&|s| s.end_time),
        int(&|s| s.end_time - s.start_time),
        int(&|s| s.event_count),
        text(&|s| s.entry_page.as_deref()),
        text(&|s| s.exit_page.as_deref()),
        text(&|s| s.utm_source.as_deref()),
        text(&|s| s.utm_medium.as_deref()),
        text(&|s| s.utm_campaign.as_deref()),
        text(&|s| s.referrer.as_deref()),
        text(&|s| Some(&s.source)),
        text(&|s| Some(&s.first_event_id)),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

/// The files of closed sessions in `dir`: those of ranges before `committed` in range order,
/// then those the batch path wrote ([`LATE_PREFIX`]).
pub fn closed_files(dir: &Path, committed: u64) -> Result<Vec<PathBuf>, PipelineError> {
    let mut paths: Vec<PathBuf> = range_file::list(dir)?
        .into_iter()
        .filter(|f| f.last < committed)
        .map(|f| f.path)
        .collect();
    paths.extend(late_files(dir));
    Ok(paths)
}

/// The files of `dir` holding sessions the batch path opened ([`LATE_PREFIX`]), by name.
pub fn late_files(dir: &Path) -> Vec<PathBuf> {
    let mut late = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name
                .to_str()
                .is_some_and(|n| n.starts_with(LATE_PREFIX) && n.ends_with(".parquet"))
            {
                late.push(entry.path());
            }
        }
    }
    late.sort();
    late
}

/// Every session of `data_dir` (closed and live), ordered by person and start.
pub fn read(data_dir: &Path) -> Result<Vec<Session>, PipelineError> {
    let layout = Layout::new(data_dir);
    let committed = crate::checkpoint::committed_offset(data_dir)?;
    let dir = layout.sessions();
    let mut out = read_closed(&dir, committed)?;
    let open = dir.join(OPEN_FILE);
    if open.exists() {
        let live = read_file(&open)?;
        let ids: BTreeSet<u64> = live.iter().map(|s| s.session_id).collect();
        out.retain(|s| !ids.contains(&s.session_id));
        out.extend(live);
    }
    out.sort_by(|a, b| (&a.person_id, a.start_time).cmp(&(&b.person_id, b.start_time)));
    Ok(out)
}

/// The closed sessions in `dir` ([`closed_files`]), the newest row of each: a session re-opened
/// by a late event is written again when it closes again, and its older row stays in its file
/// until the batch path removes it.
pub fn read_closed(dir: &Path, committed: u64) -> Result<Vec<Session>, PipelineError> {
    let mut out: Vec<Session> = Vec::new();
    let mut at: HashMap<u64, usize> = HashMap::new();
    for path in closed_files(dir, committed)? {
        for s in read_file(&path)? {
            match at.get(&s.session_id) {
                Some(&i) => out[i] = s,
                None => {
                    at.insert(s.session_id, out.len());
                    out.push(s);
                }
            }
        }
    }
    Ok(out)
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<Session>, PipelineError> {
    let mut out = Vec::new();
    for batch in parquet_file::read(path)? {
        for row in 0..batch.num_rows() {
            out.push(from_row(&batch, row));
        }
    }
    Ok(out)
}

pub(crate) fn from_row(batch: &RecordBatch, row: usize) -> Session {
    let text = |n: &str| columns::text(batch, n, row);
    let start = columns::timestamp(batch, "start_time", row).unwrap_or_default();
    let end = columns::timestamp(batch, "end_time", row).unwrap_or_default();
    Session {
        session_id: text("session_id")
            .and_then(|t| u64::from_str_radix(&t, 16).ok())
            .unwrap_or_default(),
        person_id: text("person_id").unwrap_or_default(),
        start_time: start,
        end_time: end,
        event_count: columns::int(batch, "event_count", row).unwrap_or_default(),
        entry_page: text("entry_page"),
        entry_time: start,
        exit_page: text("exit_page"),
        exit_time: end,
        utm_source: text("utm_source"),
        utm_medium: text("utm_medium"),
        utm_campaign: text("utm_campaign"),
        referrer: text("referrer"),
        source: text("source").unwrap_or_default(),
        first_event_id: text("first_event_id").unwrap_or_default(),
    }
}

/// Tables' paths for readers.
pub fn dir(data_dir: &Path) -> std::path::PathBuf {
    crate::layout::Layout::new(data_dir).sessions()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::TypedColumns;

    const MIN: i64 = 60_000;

    fn record(id: &str, person: &str, minute: i64) -> Vec<u8> {
        let time = crate::timefmt::format_ms(1_777_766_400_000 + minute * MIN);
        format!(
            r#"{{"eventId":"{id}","type":"track","eventName":"e","anonymousId":"{person}","receivedAt":"{time}","eventTime":"{time}","source":"web"}}"#
        )
        .into_bytes()
    }

    /// Sessionizes `events` (id, person, minute) in order; returns the sessionizer.
    fn run(events: &[(&str, &str, i64)]) -> Sessionizer {
        let columns = TypedColumns::embedded().expect("columns");
        let mut s = Sessionizer::new(30 * MIN, Vec::new());
        for (i, (id, person, minute)) in events.iter().enumerate() {
            let bytes = record(id, person, *minute);
            let e = crate::event::parse(i as u64, &bytes, &columns).expect("event");
            s.assign(&e, person_key(&e.person_id));
        }
        s
    }

    impl Sessionizer {
        fn close_behind_at(&mut self, watermark: i64) {
            self.close_behind(watermark);
        }
    }

    fn at(minute: i64) -> i64 {
        1_777_766_400_000 + minute * MIN
    }

    #[test]
    fn a_session_closes_once_the_watermark_passes_its_end_by_the_timeout() {
        // a's session grows after it was queued (minute 0, then 20): it must not close at 30.
        let mut s = run(&[("1", "a", 0), ("2", "b", 5), ("3", "a", 20)]);
        s.close_behind_at(at(35));
        let closed: Vec<&str> = s.closed.iter().map(|c| c.person_id.as_str()).collect();
        assert_eq!(closed, ["b"]);
        s.close_behind_at(at(49));
        assert_eq!(s.closed.len(), 1, "a ends at 20: open until 50");
        s.close_behind_at(at(50));
        assert_eq!(s.closed.len(), 2);
        assert_eq!(s.closed[1].event_count, 2);
        assert!(s.live.is_empty() && s.live().is_empty());
        s.close_behind_at(at(500));
        assert_eq!(s.closed.len(), 2, "stale queue entries close nothing");
    }

    #[test]
    fn sessions_from_a_checkpoint_close_like_the_ones_they_were() {
        let s = run(&[("1", "a", 0), ("2", "a", 50), ("3", "b", 10)]);
        let live: Vec<Session> = s.live().into_iter().cloned().collect();
        assert_eq!(live.len(), 3);
        let mut restored = Sessionizer::new(30 * MIN, live);
        restored.close_behind_at(at(40));
        let mut closed: Vec<(&str, i64)> = restored
            .closed
            .iter()
            .map(|c| (c.person_id.as_str(), c.start_time))
            .collect();
        closed.sort();
        assert_eq!(closed, [("a", at(0)), ("b", at(10))]);
        restored.close_behind_at(at(80));
        assert_eq!(restored.closed.len(), 3);
    }

    #[test]
    fn linked_sessions_move_and_close_under_the_new_person() {
        let mut s = run(&[("1", "anon", 0), ("2", "old", 0)]);
        s.rekey("anon", "user", at(0));
        assert!(s.live().iter().all(|x| x.person_id != "anon"));
        s.close_behind_at(at(30));
        let mut closed: Vec<&str> = s.closed.iter().map(|c| c.person_id.as_str()).collect();
        closed.sort();
        assert_eq!(closed, ["old", "user"]);
    }
}
