//! The batch path for events later than the allowed lateness.
//!
//! The streaming sessionizer gives such an event the live session it falls into. One that
//! falls into none (its session has closed, or there never was one) reaches raw storage with
//! `late = true` and no `session_id`. After a commit, [`correct`] (run beside compaction)
//! places each of them: into the closed session of the same person (identities resolved) it
//! falls into — within the session timeout of its start or end, the earliest such — else into
//! a session it opens, which the following late events of the person within the timeout join.
//! An event that falls into a live session waits until that session closes: the streaming
//! path owns it until then.
//!
//! Each touched session is then recomputed from the raw rows that belong to it, and the
//! session files and raw files involved are rewritten (each atomically and durably). Sessions
//! are written before the raw rows that point at them and are recomputed, never incremented,
//! so a crash at any point followed by another pass leaves the same files.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, RecordBatch, StringArray, StringBuilder,
    TimestampMillisecondArray, UInt64Array,
};
use spoor_log::event::EventType;

use crate::error::PipelineError;
use crate::event::{Event, stored_page};
use crate::fingerprint::fingerprint;
use crate::identity::Identity;
use crate::layout::Layout;
use crate::range_file;
use crate::sessionize::{self, LATE_PREFIX, OPEN_FILE, Session, session_id_text};
use crate::sink::parquet_file;
use crate::sink::raw::file_properties;
use crate::timefmt::{HOUR_MS, date_hour_partition};

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LatePass {
    /// Raw partitions looked at (paths under `raw/`).
    pub scanned: BTreeSet<String>,
    /// Partitions holding events that wait for a live session to close.
    pub waiting: BTreeSet<String>,
    /// Events placed in a session.
    pub placed: u64,
    /// Closed sessions that took events.
    pub sessions_extended: u64,
    /// Sessions opened.
    pub sessions_opened: u64,
}

/// Where the pass works and how.
#[derive(Debug, Clone)]
pub struct LateConfig<'l> {
    /// The data directory's layout.
    pub layout: &'l Layout,
    /// Log offsets before this are committed: only their files are read and rewritten.
    pub committed: u64,
    /// Session timeout in ms.
    pub timeout_ms: i64,
    /// How long the streaming sessionizer keeps closed sessions re-openable (ms past their
    /// end plus the timeout): the pass leaves those alone, as it does live ones.
    pub recent_ms: i64,
    /// The watermark as of `committed`.
    pub watermark: i64,
    /// Zstd level of rewritten files.
    pub zstd_level: i32,
}

/// A late event without a session, found in a raw file.
struct Pending {
    offset: u64,
    person: String,
    event_id: String,
    event_time: i64,
    file: PathBuf,
    partition: String,
}

/// A session the pass may place events in.
struct Candidate {
    session_id: u64,
    person: String,
    start: i64,
    end: i64,
    /// The file holding it; none for a session this pass opens.
    file: Option<PathBuf>,
    touched: bool,
}

impl Candidate {
    fn covers(&self, t: i64, gap: i64) -> bool {
        sessionize::falls_into(t, self.start, self.end, gap)
    }
}

/// Places the sessionless late events of the raw partitions `partitions` (paths under
/// `raw/`) in sessions, and rewrites the files involved.
pub fn correct(
    config: &LateConfig<'_>,
    partitions: &BTreeSet<String>,
) -> Result<LatePass, PipelineError> {
    let mut pass = LatePass {
        scanned: partitions.clone(),
        ..LatePass::default()
    };
    let pending = find_pending(config, partitions)?;
    if pending.is_empty() {
        return Ok(pass);
    }
    let mut identity = Identity::new();
    identity.load(&config.layout.identities(), config.committed)?;
    let persons: HashSet<String> = pending
        .iter()
        .map(|p| identity.resolve(&p.person).to_string())
        .collect();
    let sessions_dir = config.layout.sessions();
    // Live sessions first, then the files of closed ones: a session that closes between the
    // two reads is then seen as live (in the open file, or in an uncommitted range file).
    let mut live = load_sessions(&sessions_dir.join(OPEN_FILE), &identity, &persons)?;
    let mut closed = Vec::new();
    for file in range_file::list(&sessions_dir)? {
        let target = if file.last < config.committed {
            &mut closed
        } else {
            &mut live
        };
        target.extend(load_sessions(&file.path, &identity, &persons)?);
    }
    for path in sessionize::late_files(&sessions_dir) {
        closed.extend(load_sessions(&path, &identity, &persons)?);
    }
    // Sessions the streaming path may still re-open count as live.
    let keep = config.timeout_ms.saturating_add(config.recent_ms);
    let (recent, closed): (Vec<Candidate>, Vec<Candidate>) = closed.into_iter().partition(|c| {
        config.recent_ms > 0 && sessionize::still_kept(c.end, keep, config.watermark)
    });
    live.extend(recent);
    let mut by_person: HashMap<String, Vec<Candidate>> = HashMap::new();
    for c in closed {
        by_person.entry(c.person.clone()).or_default().push(c);
    }
    let mut live_by_person: HashMap<String, Vec<Candidate>> = HashMap::new();
    for c in live {
        live_by_person.entry(c.person.clone()).or_default().push(c);
    }

    // Place the events of each person in event-time order.
    let gap = config.timeout_ms;
    let mut pending = pending;
    pending.sort_by(|a, b| {
        let pa = identity.resolve(&a.person);
        let pb = identity.resolve(&b.person);
        (pa, a.event_time, a.offset).cmp(&(pb, b.event_time, b.offset))
    });
    let mut placed: BTreeMap<u64, u64> = BTreeMap::new();
    let mut files_of_placed: BTreeMap<PathBuf, BTreeSet<u64>> = BTreeMap::new();
    for p in &pending {
        let person = identity.resolve(&p.person);
        let t = p.event_time;
        if live_by_person
            .get(person)
            .is_some_and(|list| list.iter().any(|c| c.covers(t, gap)))
        {
            pass.waiting.insert(p.partition.clone());
            continue;
        }
        let list = by_person.entry(person.to_string()).or_default();
        list.sort_by_key(|c| (c.start, c.session_id));
        let at = match list.iter().position(|c| c.covers(t, gap)) {
            Some(at) => at,
            None => {
                list.push(Candidate {
                    session_id: fingerprint(&[person, &p.event_id]),
                    person: person.to_string(),
                    start: t,
                    end: t,
                    file: None,
                    touched: false,
                });
                list.len() - 1
            }
        };
        let candidate = &mut list[at];
        candidate.start = candidate.start.min(t);
        candidate.end = candidate.end.max(t);
        candidate.touched = true;
        placed.insert(p.offset, candidate.session_id);
        files_of_placed
            .entry(p.file.clone())
            .or_default()
            .insert(p.offset);
    }
    if placed.is_empty() {
        return Ok(pass);
    }
    let touched: Vec<Candidate> = by_person
        .into_values()
        .flatten()
        .filter(|c| c.touched)
        .collect();

    // Recompute every touched session from its raw rows, old and newly placed.
    let rows = session_rows(config, &touched, &placed)?;
    let mut rebuilt: HashMap<u64, Session> = HashMap::new();
    for c in &touched {
        let Some(events) = rows.get(&c.session_id) else {
            continue;
        };
        if let Some(session) = rebuild(c, events) {
            rebuilt.insert(c.session_id, session);
        }
    }

    // Sessions first (files holding extended ones rewritten; opened ones in a new file),
    // then the raw rows that point at them.
    let mut by_file: BTreeMap<&Path, Vec<u64>> = BTreeMap::new();
    let mut opened = Vec::new();
    for c in &touched {
        match &c.file {
            Some(file) => by_file.entry(file).or_default().push(c.session_id),
            None => opened.push(c.session_id),
        }
    }
    for file in by_file.keys() {
        rewrite_sessions(file, &rebuilt, config.zstd_level)?;
    }
    pass.sessions_extended = by_file.values().map(|ids| ids.len() as u64).sum();
    if !opened.is_empty() {
        let offsets: Vec<u64> = placed
            .iter()
            .filter(|(_, id)| opened.contains(id))
            .map(|(offset, _)| *offset)
            .collect();
        let (first, last) = (
            offsets.first().copied().unwrap_or_default(),
            offsets.last().copied().unwrap_or_default(),
        );
        let name = format!("{LATE_PREFIX}{first:020}-{last:020}.parquet");
        let sessions: Vec<&Session> = opened.iter().filter_map(|id| rebuilt.get(id)).collect();
        parquet_file::write_durable(
            &sessions_dir.join(name),
            sessionize::to_batch(&sessions)?,
            parquet_file::properties(config.zstd_level),
        )?;
        pass.sessions_opened = opened.len() as u64;
    }
    range_file::sync_dir(&sessions_dir)?;
    for (file, offsets) in &files_of_placed {
        rewrite_raw(file, offsets, &placed, config.zstd_level)?;
        if let Some(dir) = file.parent() {
            range_file::sync_dir(dir)?;
        }
    }
    pass.placed = placed.len() as u64;
    Ok(pass)
}

/// Removes the older rows of re-opened sessions from the committed session files: `stale`
/// holds (an offset of the file's range, session id). A re-opened session is live again, and
/// written to a newer file when it closes again. Returns how many rows it removed.
pub fn drop_stale(
    config: &LateConfig<'_>,
    stale: &BTreeSet<(u64, u64)>,
) -> Result<u64, PipelineError> {
    if stale.is_empty() {
        return Ok(0);
    }
    let dir = config.layout.sessions();
    let files = range_file::list(&dir)?;
    let mut by_file: BTreeMap<&Path, HashSet<String>> = BTreeMap::new();
    for &(offset, id) in stale {
        if let Some(file) = files
            .iter()
            .find(|f| f.first <= offset && offset <= f.last && f.last < config.committed)
        {
            by_file
                .entry(&file.path)
                .or_default()
                .insert(session_id_text(id));
        }
    }
    let mut removed = 0;
    for (path, ids) in &by_file {
        let mut kept = Vec::new();
        let mut dropped = 0;
        for batch in parquet_file::read(path)? {
            let column = column::<StringArray>(&batch, "session_id", path)?;
            let keep: BooleanArray = (0..batch.num_rows())
                .map(|r| Some(!ids.contains(column.value(r))))
                .collect();
            dropped += keep.false_count();
            kept.push(arrow::compute::filter_record_batch(&batch, &keep)?);
        }
        if dropped == 0 {
            continue;
        }
        let batch = arrow::compute::concat_batches(&sessionize::schema(), &kept)?;
        parquet_file::write_durable(path, batch, parquet_file::properties(config.zstd_level))?;
        removed += dropped as u64;
    }
    if removed > 0 {
        range_file::sync_dir(&dir)?;
    }
    Ok(removed)
}

/// The committed raw files of `partition` (its `event=…/source=…` folders when it is an hour).
pub(crate) fn raw_files(
    config: &LateConfig<'_>,
    partition: &str,
) -> Result<Vec<PathBuf>, PipelineError> {
    let mut out = Vec::new();
    for dir in range_file::walk_dirs(&config.layout.raw().join(partition))? {
        out.extend(
            range_file::list(&dir)?
                .into_iter()
                .filter(|f| f.last < config.committed)
                .map(|f| f.path),
        );
    }
    Ok(out)
}

fn find_pending(
    config: &LateConfig<'_>,
    partitions: &BTreeSet<String>,
) -> Result<Vec<Pending>, PipelineError> {
    let mut out = Vec::new();
    for partition in partitions {
        for file in raw_files(config, partition)? {
            // The two small columns first: most files hold no sessionless late event.
            let mut rows = Vec::new();
            for batch in parquet_file::read_columns(&file, &["late", "session_id"])? {
                let late = column::<BooleanArray>(&batch, "late", &file)?;
                let session = column::<StringArray>(&batch, "session_id", &file)?;
                rows.push((0..batch.num_rows()).any(|i| late.value(i) && session.is_null(i)));
            }
            if !rows.contains(&true) {
                continue;
            }
            let names = [
                "late",
                "session_id",
                "person_id",
                "event_id",
                "event_time",
                "log_offset",
            ];
            for batch in parquet_file::read_columns(&file, &names)? {
                let late = column::<BooleanArray>(&batch, "late", &file)?;
                let session = column::<StringArray>(&batch, "session_id", &file)?;
                let person = column::<StringArray>(&batch, "person_id", &file)?;
                let event_id = column::<StringArray>(&batch, "event_id", &file)?;
                let time = column::<TimestampMillisecondArray>(&batch, "event_time", &file)?;
                let offset = column::<UInt64Array>(&batch, "log_offset", &file)?;
                for i in 0..batch.num_rows() {
                    if late.value(i) && session.is_null(i) {
                        out.push(Pending {
                            offset: offset.value(i),
                            person: person.value(i).to_string(),
                            event_id: event_id.value(i).to_string(),
                            event_time: time.value(i),
                            file: file.clone(),
                            partition: partition.clone(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The sessions of `path` whose person (resolved) is in `persons`.
fn load_sessions(
    path: &Path,
    identity: &Identity,
    persons: &HashSet<String>,
) -> Result<Vec<Candidate>, PipelineError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for batch in
        parquet_file::read_columns(path, &["session_id", "person_id", "start_time", "end_time"])?
    {
        let id = column::<StringArray>(&batch, "session_id", path)?;
        let person = column::<StringArray>(&batch, "person_id", path)?;
        let start = column::<TimestampMillisecondArray>(&batch, "start_time", path)?;
        let end = column::<TimestampMillisecondArray>(&batch, "end_time", path)?;
        for i in 0..batch.num_rows() {
            let resolved = identity.resolve(person.value(i));
            if !persons.contains(resolved) {
                continue;
            }
            let Ok(session_id) = u64::from_str_radix(id.value(i), 16) else {
                continue;
            };
            out.push(Candidate {
                session_id,
                person: resolved.to_string(),
                start: start.value(i),
                end: end.value(i),
                file: Some(path.to_path_buf()),
                touched: false,
            });
        }
    }
    Ok(out)
}

/// A raw row, as much of it as a session needs.
struct Row {
    offset: u64,
    event_id: String,
    event_time: i64,
    page: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    referrer: Option<String>,
    source: String,
}

/// The raw rows of the `touched` sessions: those carrying their ids and the newly `placed`
/// ones, by session, read from the hours the sessions span.
fn session_rows(
    config: &LateConfig<'_>,
    touched: &[Candidate],
    placed: &BTreeMap<u64, u64>,
) -> Result<HashMap<u64, Vec<Row>>, PipelineError> {
    let ids: HashMap<String, u64> = touched
        .iter()
        .map(|c| (session_id_text(c.session_id), c.session_id))
        .collect();
    let mut hours = BTreeSet::new();
    for c in touched {
        let mut h = c.start.div_euclid(HOUR_MS);
        while h <= c.end.div_euclid(HOUR_MS) {
            hours.insert(h);
            h += 1;
        }
    }
    let mut out: HashMap<u64, Vec<Row>> = HashMap::new();
    for hour in hours {
        for file in raw_files(config, &date_hour_partition(hour * HOUR_MS))? {
            let session_of = |session: &StringArray, offset: &UInt64Array, i: usize| {
                placed.get(&offset.value(i)).copied().or_else(|| {
                    (!session.is_null(i))
                        .then(|| ids.get(session.value(i)).copied())
                        .flatten()
                })
            };
            let mut any = false;
            for batch in parquet_file::read_columns(&file, &["session_id", "log_offset"])? {
                let session = column::<StringArray>(&batch, "session_id", &file)?;
                let offset = column::<UInt64Array>(&batch, "log_offset", &file)?;
                any |= (0..batch.num_rows()).any(|i| session_of(session, offset, i).is_some());
            }
            if !any {
                continue;
            }
            for batch in parquet_file::read(&file)? {
                let session = column::<StringArray>(&batch, "session_id", &file)?;
                let offset = column::<UInt64Array>(&batch, "log_offset", &file)?;
                let text = |name: &str| column::<StringArray>(&batch, name, &file);
                let (event_id, kind, name) =
                    (text("event_id")?, text("type")?, text("event_name")?);
                let (props, context, source) =
                    (text("properties")?, text("context")?, text("source")?);
                let (utm_source, utm_medium, utm_campaign, referrer) = (
                    text("utm_source")?,
                    text("utm_medium")?,
                    text("utm_campaign")?,
                    text("referrer")?,
                );
                let time = column::<TimestampMillisecondArray>(&batch, "event_time", &file)?;
                let opt =
                    |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
                for i in 0..batch.num_rows() {
                    let Some(id) = session_of(session, offset, i) else {
                        continue;
                    };
                    let event_type = EventType::from_name(kind.value(i)).unwrap_or_default();
                    let event_name = (!name.is_null(i)).then(|| name.value(i));
                    let page =
                        stored_page(event_type, event_name, props.value(i), context.value(i))
                            .map(|p| p.into_owned());
                    out.entry(id).or_default().push(Row {
                        offset: offset.value(i),
                        event_id: event_id.value(i).to_string(),
                        event_time: time.value(i),
                        page,
                        utm_source: opt(utm_source, i),
                        utm_medium: opt(utm_medium, i),
                        utm_campaign: opt(utm_campaign, i),
                        referrer: opt(referrer, i),
                        source: source.value(i).to_string(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Session `c` built from its rows, in event-time then log order (the order the streaming
/// sessionizer's rules resolve ties in).
fn rebuild(c: &Candidate, rows: &[Row]) -> Option<Session> {
    let mut order: Vec<&Row> = rows.iter().collect();
    order.sort_by_key(|r| (r.event_time, r.offset));
    order.dedup_by_key(|r| r.offset);
    fn event(r: &Row) -> Event<'_> {
        Event {
            offset: r.offset,
            event_id: r.event_id.as_str().into(),
            event_time: r.event_time,
            page: r.page.as_deref().map(Into::into),
            utm_source: r.utm_source.as_deref().map(Into::into),
            utm_medium: r.utm_medium.as_deref().map(Into::into),
            utm_campaign: r.utm_campaign.as_deref().map(Into::into),
            referrer: r.referrer.as_deref().map(Into::into),
            source: r.source.as_str().into(),
            ..Event::default()
        }
    }
    let (first, rest) = order.split_first()?;
    let mut session = Session::open(&c.person, &event(first));
    session.session_id = c.session_id;
    for r in rest {
        session.add(&event(r));
    }
    Some(session)
}

/// Rewrites the sessions file `path` with the sessions of `rebuilt` in place of theirs.
fn rewrite_sessions(
    path: &Path,
    rebuilt: &HashMap<u64, Session>,
    zstd_level: i32,
) -> Result<(), PipelineError> {
    let mut sessions = Vec::new();
    for batch in parquet_file::read(path)? {
        for row in 0..batch.num_rows() {
            let s = sessionize::from_row(&batch, row);
            sessions.push(rebuilt.get(&s.session_id).cloned().unwrap_or(s));
        }
    }
    let refs: Vec<&Session> = sessions.iter().collect();
    parquet_file::write_durable(
        path,
        sessionize::to_batch(&refs)?,
        parquet_file::properties(zstd_level),
    )
}

/// Rewrites the raw file `path` with the session of each of its rows in `offsets`.
fn rewrite_raw(
    path: &Path,
    offsets: &BTreeSet<u64>,
    placed: &BTreeMap<u64, u64>,
    zstd_level: i32,
) -> Result<(), PipelineError> {
    let batches = parquet_file::read(path)?;
    let Some(schema) = batches.first().map(|b| b.schema()) else {
        return Ok(());
    };
    let batch = arrow::compute::concat_batches(&schema, &batches)?;
    let index = schema
        .index_of("session_id")
        .map_err(|e| PipelineError::content(path, e.to_string()))?;
    let session = column::<StringArray>(&batch, "session_id", path)?;
    let offset = column::<UInt64Array>(&batch, "log_offset", path)?;
    let mut b = StringBuilder::with_capacity(batch.num_rows(), batch.num_rows() * 16);
    for i in 0..batch.num_rows() {
        let o = offset.value(i);
        match placed.get(&o).filter(|_| offsets.contains(&o)) {
            Some(id) => b.append_value(session_id_text(*id)),
            None if session.is_null(i) => b.append_null(),
            None => b.append_value(session.value(i)),
        }
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[index] = Arc::new(b.finish());
    let batch = RecordBatch::try_new(schema, columns)?;
    let props = file_properties(std::slice::from_ref(&batch), zstd_level);
    parquet_file::write_durable(path, batch, props)
}

/// Column `name` of `batch` as an array of type `T` (a clear error naming `path` otherwise).
fn column<'b, T: 'static>(
    batch: &'b RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'b T, PipelineError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| {
            PipelineError::content(path, format!("no column {name} of the expected type"))
        })
}
