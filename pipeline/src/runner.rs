//! The consumer: reads a range of the log, runs the stages over it and hands
//! their outputs to the writer, which writes them while the next range is
//! processed; every so often it commits: one filesystem sync for the outputs
//! of the ranges since the last commit, then the checkpoint.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use spoor_log::LogReader;

use crate::checkpoint::Checkpoint;
use crate::compact;
use crate::config::PipelineConfig;
use crate::dedupe::Dedupe;
use crate::error::PipelineError;
use crate::event::{Event, parse};
use crate::identity::Identity;
use crate::late_sessions::{self, LateConfig, LatePass};
use crate::layout::Layout;
use crate::metrics::Metrics;
use crate::range_file;
use crate::realtime::Realtime;
use crate::registry::TypedColumns;
use crate::sessionize::{Sessionizer, still_kept};
use crate::sink::parquet_file;
use crate::sink::raw::{RawSink, merged_file_properties};
use crate::stage::{Batch, CommitContext, Stage};
use crate::timefmt::date_hour_partition;
use crate::watermark::Watermark;
use crate::writer::Writer;

/// Ranges between two compaction passes (a pass runs after the commit that passes this).
const COMPACT_EVERY: u64 = 16;

/// Where a run got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Next offset to process.
    pub offset: u64,
    /// Log bytes read by this runner so far (record headers included).
    pub bytes_read: u64,
}

/// Where a runner's time went: wall-clock seconds on its thread, by phase (for tuning; not
/// checkpointed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PhaseSeconds {
    /// Reading records from the log (a drain's first range and steps: the read-ahead thread
    /// reads the others).
    pub read: f64,
    /// Parsing them (on the configured threads), or waiting for the read-ahead thread.
    pub parse: f64,
    /// The stages' work on each event.
    pub stages: f64,
    /// Building the ranges' outputs (Arrow batches) for the writer.
    pub outputs: f64,
    /// Waiting for the writer to finish the previous range's files.
    pub hand_over: f64,
    /// Commits: the writer's last files, the live views, the sync and the checkpoint.
    pub commit: f64,
    /// Waiting for a compaction pass to end.
    pub compaction_wait: f64,
}

/// What a compaction pass's batch path did: its session placements, and the realtime
/// hours that wait for the watermark.
type PassDone = (LatePass, BTreeSet<i64>);

/// The pipeline's consumer over one data directory.
pub struct Runner {
    layout: Layout,
    config: PipelineConfig,
    /// Shared with the thread that parses the next range.
    columns: Arc<TypedColumns>,
    /// Taken by the read-ahead thread while it reads (see [`Runner::drain`]).
    source: Option<Source>,
    offset: u64,
    emit_from: u64,
    metrics: Metrics,
    dedupe: Dedupe,
    identity: Identity,
    watermark: Watermark,
    sessions: Sessionizer,
    realtime: Realtime,
    raw: RawSink,
    /// Ranges were written since the last commit.
    uncommitted: bool,
    /// Ranges written since the last compaction pass.
    uncompacted: u64,
    last_commit: Instant,
    /// Writes the ranges' files.
    writer: Writer,
    phases: PhaseSeconds,
    /// The compaction pass running beside the ranges, if any.
    compaction: Option<std::thread::JoinHandle<Result<PassDone, PipelineError>>>,
    /// Raw hours (`date=…/hour=…`) holding late events without a session, for the next
    /// compaction pass's batch path ([`late_sessions`]).
    late_hours: BTreeSet<String>,
    /// The hours the running compaction pass looks at (put back if it fails).
    late_hours_in_pass: BTreeSet<String>,
    /// Re-opened sessions whose older rows the running compaction pass removes.
    reopened_in_pass: BTreeSet<(u64, u64)>,
    /// Hours (starts, epoch ms) holding events later than the allowed lateness, which the
    /// realtime aggregates count only once the batch path has counted the hour again
    /// ([`crate::realtime::correct`]).
    realtime_late_hours: BTreeSet<i64>,
    /// The realtime hours the running compaction pass counts again (put back if it fails).
    realtime_hours_in_pass: BTreeSet<i64>,
    /// Held (locked) while the runner lives: one pipeline per data directory.
    _lock: std::fs::File,
    /// Ledger bytes of erased users the outputs were built after (see [`crate::erasure`]).
    erasures: u64,
}

impl Runner {
    /// Opens the consumer of `data_dir`: loads the checkpoint, deletes outputs of uncommitted
    /// ranges, loads the dedupe index and identity links.
    pub fn open(data_dir: &Path, config: PipelineConfig) -> Result<Runner, PipelineError> {
        let layout = Layout::new(data_dir);
        let lock = lock_data_dir(&layout)?;
        let mut cp = Checkpoint::load(&layout)?;
        let erasures = spoor_log::erase::ledger_len(&layout.log());
        if erasures != cp.erasures {
            crate::erasure::clear_outputs(&layout)?;
            cp = Checkpoint::default();
        }
        let keep_below = cp.offset.max(cp.emit_from);
        for dir in range_file::walk_dirs(&layout.raw())? {
            range_file::clean(&dir, keep_below)?;
        }
        for dir in layout.range_dirs() {
            range_file::clean(&dir, keep_below)?;
        }
        let columns = TypedColumns::embedded()?;
        let mut dedupe = Dedupe::new(
            config.dedupe_window_hours,
            config.dedupe_max_entries,
            cp.dedupe,
        );
        dedupe.load(&layout.dedupe(), cp.offset)?;
        let mut identity = Identity::new();
        identity.load(&layout.identities(), cp.offset)?;
        let mut watermark = Watermark::new(config.allowed_lateness_ms());
        if let Some(max) = cp.max_event_time {
            watermark.max_event_time = max;
        }
        let mut sessions = Sessionizer::new(config.session_timeout_ms(), cp.sessions.clone())
            .with_recent(
                config.recent_session_ms(),
                recent_sessions(&layout, &cp, &config)?,
                watermark.value(),
            );
        sessions.reopened = cp.reopened_sessions.clone();
        let mut reader = LogReader::open(&layout.log(), cp.offset)?;
        if let Some(limit) = &config.durable_offset {
            reader = reader.with_limit(limit.clone());
        }
        let threads = config.thread_count();
        let mut runner = Runner {
            sessions,
            realtime: Realtime::new(cp.realtime),
            raw: RawSink::new(columns.clone()),
            layout,
            config,
            columns: Arc::new(columns),
            source: Some(Source {
                reader,
                bytes_read: 0,
            }),
            offset: cp.offset,
            emit_from: cp.emit_from,
            metrics: cp.metrics,
            dedupe,
            identity,
            watermark,
            uncommitted: false,
            uncompacted: 0,
            last_commit: Instant::now(),
            compaction: None,
            late_hours: cp.late_hours,
            late_hours_in_pass: BTreeSet::new(),
            reopened_in_pass: BTreeSet::new(),
            realtime_late_hours: cp.realtime_late_hours,
            realtime_hours_in_pass: BTreeSet::new(),
            writer: Writer::start(threads)?,
            phases: PhaseSeconds::default(),
            erasures,
            _lock: lock,
        };
        runner.skip_to_log_position()?;
        Ok(runner)
    }

    /// The reader opens at the checkpoint's offset; if the log holds fewer records it sits at its end.
    fn skip_to_log_position(&mut self) -> Result<(), PipelineError> {
        let next = self.source()?.reader.next_offset();
        if next < self.offset {
            return Err(PipelineError::state(
                &self.layout.checkpoint(),
                format!(
                    "committed offset {} is past the end of the log ({} records): was the log replaced?",
                    self.offset, next
                ),
            ));
        }
        Ok(())
    }

    /// Next offset to process.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Counters as of the last commit.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Where the run is.
    pub fn progress(&self) -> Progress {
        Progress {
            offset: self.offset,
            bytes_read: self.source.as_ref().map_or(0, |s| s.bytes_read),
        }
    }

    /// Where this runner's time went so far.
    pub fn phase_seconds(&self) -> PhaseSeconds {
        self.phases
    }

    /// Reads the next range into `records` and parses it, on this thread.
    fn read_here<'r>(
        &mut self,
        records: &'r mut Vec<(u64, Vec<u8>)>,
    ) -> Result<Option<Range<'r>>, PipelineError> {
        let started = Instant::now();
        let (max, emit_from) = (self.config.max_batch_records, self.emit_from);
        self.source()?.read_range(records, max, emit_from)?;
        self.phases.read += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let range = Range::parse(records, &self.columns, self.config.thread_count());
        self.phases.parse += started.elapsed().as_secs_f64();
        Ok(range)
    }

    /// The log reader (absent only if a read-ahead thread panicked with it).
    fn source(&mut self) -> Result<&mut Source, PipelineError> {
        self.source.as_mut().ok_or(PipelineError::Panicked)
    }

    /// Bytes the dedupe index holds in memory (approximate).
    pub fn dedupe_memory_bytes(&self) -> usize {
        self.dedupe.memory_bytes()
    }

    /// Processes the next range of up to `max_batch_records` records and writes its outputs,
    /// committing when the commit interval has passed; returns how many records it consumed
    /// (0 when the log has nothing new).
    pub fn step(&mut self) -> Result<usize, PipelineError> {
        let mut records = Vec::new();
        let Some(range) = self.read_here(&mut records)? else {
            return Ok(0);
        };
        let consumed = range.records;
        self.process(range)?;
        Ok(consumed)
    }

    /// Processes ranges until the log has nothing new or `keep_going` says stop; returns how
    /// many records it consumed. While one range goes through the stages, the next is read and
    /// parsed on another thread. `keep_going` is asked as each range starts, with where the run
    /// will be after it; a stop still finishes that range.
    pub fn drain(
        &mut self,
        mut keep_going: impl FnMut(Progress) -> bool,
    ) -> Result<u64, PipelineError> {
        // Two buffers in turn: the range being processed borrows one, the next is read into
        // the other.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut current = self.read_here(&mut a)?;
        let mut consumed = 0;
        while let Some(range) = current {
            consumed += range.records as u64;
            let next = self.process_reading_ahead(range, &mut b, &mut keep_going)?;
            let Some(range) = next else { break };
            consumed += range.records as u64;
            current = self.process_reading_ahead(range, &mut a, &mut keep_going)?;
        }
        Ok(consumed)
    }

    /// Processes `range` while the next range is read into `next` and parsed on another
    /// thread (unless `keep_going`, asked with the position after `range`, says stop); returns
    /// the next range.
    fn process_reading_ahead<'n>(
        &mut self,
        range: Range<'_>,
        next: &'n mut Vec<(u64, Vec<u8>)>,
        keep_going: &mut impl FnMut(Progress) -> bool,
    ) -> Result<Option<Range<'n>>, PipelineError> {
        next.clear();
        let progress_after = Progress {
            offset: range.last + 1,
            bytes_read: self.progress().bytes_read,
        };
        if !keep_going(progress_after) {
            self.process(range)?;
            return Ok(None);
        }
        let mut source = self.source.take().ok_or(PipelineError::Panicked)?;
        let (max, emit_from) = (self.config.max_batch_records, self.emit_from);
        let columns = Arc::clone(&self.columns);
        let threads = self.config.thread_count().saturating_sub(1).max(1);
        std::thread::scope(|scope| {
            let reading = scope.spawn(move || {
                let read = source.read_range(next, max, emit_from);
                let next: &'n [(u64, Vec<u8>)] = next;
                (source, read.map(|()| Range::parse(next, &columns, threads)))
            });
            let processed = self.process(range);
            let started = Instant::now();
            let joined = reading.join();
            self.phases.parse += started.elapsed().as_secs_f64();
            let (source, parsed) = joined.map_err(|_| PipelineError::Panicked)?;
            self.source = Some(source);
            processed?;
            parsed
        })
    }

    fn process(&mut self, range: Range<'_>) -> Result<(), PipelineError> {
        let Range {
            first,
            last,
            records,
            events,
            unreadable,
        } = range;
        let started = Instant::now();
        let mut batch = Batch {
            first,
            last,
            events,
        };
        let linked_before = self.identity.len();
        self.dedupe.process(&mut batch);
        self.identity.process(&mut batch);
        self.watermark.process(&mut batch);
        self.sessions.process(&mut batch);
        for e in &batch.events {
            if e.late && e.session_id.is_none() && !e.duplicate {
                self.late_hours.insert(date_hour_partition(e.event_time));
            }
            if e.late && !e.duplicate {
                self.realtime_late_hours
                    .insert(crate::realtime::hour_of(e.event_time));
            }
        }
        self.realtime.process(&mut batch);
        self.phases.stages += started.elapsed().as_secs_f64();

        let write = last >= self.emit_from;
        let ctx = CommitContext {
            layout: &self.layout,
            first,
            last,
            write,
            watermark: self.watermark.value(),
            zstd_level: self.config.zstd_level,
        };
        // The sessions file first: it is the largest, and the writer's threads take files in order.
        let stages: [&mut dyn Stage; 5] = [
            &mut self.sessions,
            &mut self.raw,
            &mut self.identity,
            &mut self.dedupe,
            &mut self.realtime,
        ];
        let started = Instant::now();
        let mut outputs = Vec::new();
        for stage in stages {
            outputs.extend(stage.commit(&batch, &ctx)?);
        }
        self.phases.outputs += started.elapsed().as_secs_f64();
        // The files are encoded and written while the next range is read and processed.
        let started = Instant::now();
        self.writer.submit(outputs)?;
        self.phases.hand_over += started.elapsed().as_secs_f64();
        let m = &mut self.metrics;
        m.records += records as u64;
        m.unreadable += unreadable;
        m.duplicates += self.dedupe.batch_duplicates;
        m.events += batch.events.len() as u64 - self.dedupe.batch_duplicates;
        m.late_events += self.watermark.batch_late;
        m.sessions_closed += self.sessions.batch_closed;
        m.identities_linked += (self.identity.len() - linked_before) as u64;
        m.commits += 1;
        self.offset = last + 1;
        if write {
            self.uncommitted = true;
            self.uncompacted += 1;
            if self.last_commit.elapsed() >= self.config.commit_interval() {
                self.commit()?;
                if self.uncompacted >= COMPACT_EVERY {
                    self.start_compaction()?;
                }
            }
        }
        Ok(())
    }

    /// Commits the ranges written since the last commit: the stages' live views, one
    /// filesystem sync, then the checkpoint. A no-op when nothing is waiting.
    pub fn commit(&mut self) -> Result<(), PipelineError> {
        if !self.uncommitted {
            return Ok(());
        }
        let started = Instant::now();
        let level = self.config.zstd_level;
        let mut outputs =
            self.raw
                .release_held(&self.layout, self.offset.saturating_sub(1), level)?;
        let stages: [&mut dyn Stage; 2] = [&mut self.sessions, &mut self.realtime];
        for stage in stages {
            outputs.extend(stage.persist(&self.layout, level)?);
        }
        self.writer.submit(outputs)?;
        self.writer.finish()?;
        range_file::sync_filesystem(&[
            self.layout.state(),
            self.layout.raw(),
            self.layout.tables(),
        ])?;
        self.checkpoint()?;
        self.uncommitted = false;
        self.last_commit = Instant::now();
        self.phases.commit += started.elapsed().as_secs_f64();
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<(), PipelineError> {
        let mut cp = Checkpoint {
            version: 0,
            offset: self.offset,
            emit_from: self.emit_from,
            max_event_time: (self.watermark.max_event_time != i64::MIN)
                .then_some(self.watermark.max_event_time),
            dedupe: self.dedupe.cursor(),
            sessions: self.sessions.live().into_iter().cloned().collect(),
            realtime: self.realtime.open_minutes().clone(),
            metrics: self.metrics.clone(),
            late_hours: self
                .late_hours
                .union(&self.late_hours_in_pass)
                .cloned()
                .collect(),
            erasures: self.erasures,
            realtime_late_hours: self
                .realtime_late_hours
                .union(&self.realtime_hours_in_pass)
                .copied()
                .collect(),
            reopened_sessions: self
                .sessions
                .reopened
                .union(&self.reopened_in_pass)
                .copied()
                .collect(),
        };
        cp.store(&self.layout)
    }

    /// Commits, then merges small files of the partitions written since the last pass, and of
    /// the tables; returns when the pass is done.
    pub fn compact(&mut self) -> Result<(), PipelineError> {
        self.start_compaction()?;
        self.finish_compaction()
    }

    /// Commits, then starts a compaction pass on its own thread (after the previous one ended):
    /// it merges committed files only, so the ranges that follow go on beside it.
    fn start_compaction(&mut self) -> Result<(), PipelineError> {
        self.finish_compaction()?;
        if self.offset < self.emit_from {
            return Ok(());
        }
        self.commit()?;
        self.uncompacted = 0;
        let level = self.config.zstd_level;
        let raw_dirs = std::mem::take(&mut self.raw.touched);
        let table_dirs = [
            self.layout.sessions(),
            self.layout.realtime(),
            self.layout.identities(),
        ];
        let committed = self.offset;
        let min = self.config.compact_min_files;
        let dedupe_dir = self.layout.dedupe();
        let cutoff_hour = self.dedupe.cutoff_hour();
        let layout = self.layout.clone();
        let timeout_ms = self.config.session_timeout_ms();
        let late_hours = std::mem::take(&mut self.late_hours);
        self.late_hours_in_pass = late_hours.clone();
        let realtime_hours = std::mem::take(&mut self.realtime_late_hours);
        self.realtime_hours_in_pass = realtime_hours.clone();
        // Re-opened sessions: their older rows go.
        let reopened = std::mem::take(&mut self.sessions.reopened);
        self.reopened_in_pass = reopened.clone();
        let recent_ms = self.config.recent_session_ms();
        let watermark = self.watermark.value();
        let pass = std::thread::Builder::new()
            .name("spoor-compact".into())
            .spawn(move || {
                let late = LateConfig {
                    layout: &layout,
                    committed,
                    timeout_ms,
                    recent_ms,
                    watermark,
                    zstd_level: level,
                };
                // Before the merges: the rows to remove are still in small files.
                late_sessions::drop_stale(&late, &reopened)?;
                let raw_props = merged_file_properties(level);
                for dir in &raw_dirs {
                    compact::compact_parquet(dir, committed, min, &raw_props)?;
                }
                let table_props = parquet_file::properties(level);
                for dir in &table_dirs {
                    if *dir == layout.sessions() {
                        // Files with sessions a late event may still re-open stay small.
                        let keep = timeout_ms.saturating_add(recent_ms);
                        let hold = |path: &Path| {
                            Ok(recent_ms > 0
                                && parquet_file::column_max_i64(path, "end_time")?
                                    .is_some_and(|end| still_kept(end, keep, watermark)))
                        };
                        compact::compact_parquet_holding(dir, committed, min, &table_props, &hold)?;
                    } else {
                        compact::compact_parquet(dir, committed, min, &table_props)?;
                    }
                }
                Dedupe::compact(&dedupe_dir, committed, min * 8, cutoff_hour)?;
                // The batch pass runs after the merges: both rewrite committed files.
                let placed = late_sessions::correct(&late, &late_hours)?;
                let realtime_waiting = crate::realtime::correct(&late, &realtime_hours)?;
                Ok((placed, realtime_waiting))
            })
            .map_err(|e| PipelineError::io("start compaction", &self.layout.state(), e))?;
        self.compaction = Some(pass);
        Ok(())
    }

    /// Waits for the running compaction pass, if any, and returns its error.
    fn finish_compaction(&mut self) -> Result<(), PipelineError> {
        let Some(pass) = self.compaction.take() else {
            return Ok(());
        };
        let started = Instant::now();
        let result = pass.join().unwrap_or(Err(PipelineError::Panicked));
        self.phases.compaction_wait += started.elapsed().as_secs_f64();
        let in_pass = std::mem::take(&mut self.late_hours_in_pass);
        let reopened = std::mem::take(&mut self.reopened_in_pass);
        let realtime_in_pass = std::mem::take(&mut self.realtime_hours_in_pass);
        match result {
            Ok((late, realtime_waiting)) => {
                self.late_hours.extend(late.waiting);
                let realtime_done = realtime_in_pass.len() > realtime_waiting.len();
                self.realtime_late_hours.extend(realtime_waiting);
                self.metrics.late_placed += late.placed;
                // Record what the pass did now unless ranges wait for a commit (whose
                // checkpoint will carry it): the checkpoint commits everything before `offset`.
                if (!late.scanned.is_empty() || !reopened.is_empty() || realtime_done)
                    && !self.uncommitted
                {
                    self.checkpoint()?;
                }
                Ok(())
            }
            Err(e) => {
                self.late_hours.extend(in_pass);
                self.realtime_late_hours.extend(realtime_in_pass);
                self.sessions.reopened.extend(reopened);
                Err(e)
            }
        }
    }

    /// Processes everything the log holds now, then commits and compacts; `progress` is called
    /// as each range starts, with the position after it.
    pub fn run_to_end(&mut self, mut progress: impl FnMut(Progress)) -> Result<(), PipelineError> {
        self.drain(|p| {
            progress(p);
            true
        })?;
        self.compact()
    }

    /// Follows the log until `stop` is set, committing a range whenever the log has news.
    /// Returns [`Followed::Rebuild`] when a user was erased since the runner
    /// opened: open a new runner, which rebuilds the outputs from the log.
    pub fn follow(&mut self, stop: &AtomicBool) -> Result<Followed, PipelineError> {
        let mut last_compact = Instant::now();
        while !stop.load(Ordering::Acquire) {
            if self.drain(|_| !stop.load(Ordering::Acquire))? > 0 {
                continue;
            }
            self.commit()?;
            if spoor_log::erase::ledger_len(&self.layout.log()) != self.erasures {
                self.finish_compaction()?;
                return Ok(Followed::Rebuild);
            }
            if last_compact.elapsed() > Duration::from_secs(60) {
                self.compact()?;
                last_compact = Instant::now();
            }
            let deadline = Instant::now() + self.config.poll_interval();
            while Instant::now() < deadline && !stop.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(20).min(self.config.poll_interval()));
            }
        }
        self.compact()?;
        Ok(Followed::Stopped)
    }
}

/// Why [`Runner::follow`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// Asked to stop.
    Stopped,
    /// A user was erased: the outputs must be rebuilt by a new runner.
    Rebuild,
}

impl Drop for Runner {
    /// A compaction pass is not left running past its runner (a new one may open the folder).
    fn drop(&mut self) {
        let _ = self.finish_compaction();
    }
}

/// The closed sessions a late event may still re-open after a restart (see
/// [`Sessionizer::with_recent`]), by table file: each committed closed session that ends less
/// than the timeout plus `recent_session_hours` behind the checkpoint's watermark, is not live
/// and is not a re-opened session's older row. None while a replay rebuilds state from the
/// start of the log.
fn recent_sessions(
    layout: &Layout,
    cp: &Checkpoint,
    config: &PipelineConfig,
) -> Result<Vec<(u64, Vec<crate::sessionize::Session>)>, PipelineError> {
    let recent_ms = config.recent_session_ms();
    let Some(max) = cp.max_event_time else {
        return Ok(Vec::new());
    };
    if recent_ms <= 0 || cp.offset == 0 {
        return Ok(Vec::new());
    }
    let watermark = max.saturating_sub(config.allowed_lateness_ms());
    let keep = config.session_timeout_ms().saturating_add(recent_ms);
    let live: BTreeSet<u64> = cp.sessions.iter().map(|s| s.session_id).collect();
    let mut out = Vec::new();
    for file in range_file::list(&layout.sessions())? {
        if file.last >= cp.offset
            || parquet_file::column_max_i64(&file.path, "end_time")?
                .is_none_or(|end| !still_kept(end, keep, watermark))
        {
            continue;
        }
        let mut sessions = crate::sessionize::read_file(&file.path)?;
        sessions.retain(|s| {
            still_kept(s.end_time, keep, watermark)
                && !live.contains(&s.session_id)
                && !cp.reopened_sessions.contains(&(file.first, s.session_id))
        });
        out.push((file.first, sessions));
    }
    Ok(out)
}

/// The log reader and what it has read.
struct Source {
    reader: LogReader,
    /// Log bytes read (record headers included).
    bytes_read: u64,
}

impl Source {
    /// Reads the next range of up to `max` records into `records` (cleared first; left empty
    /// when the log has nothing new). A range ends at `emit_from` if it would pass it, so
    /// that a replay's first written range starts there.
    fn read_range(
        &mut self,
        records: &mut Vec<(u64, Vec<u8>)>,
        max: usize,
        emit_from: u64,
    ) -> Result<(), PipelineError> {
        records.clear();
        let mut max = max.max(1) as u64;
        let from = self.reader.next_offset();
        if from < emit_from {
            max = max.min(emit_from - from);
        }
        while (records.len() as u64) < max {
            match self.reader.next_record()? {
                Some(r) => {
                    self.bytes_read += 8 + r.1.len() as u64;
                    records.push(r);
                }
                None => break,
            }
        }
        Ok(())
    }
}

/// A range of records parsed, in log order.
struct Range<'a> {
    first: u64,
    last: u64,
    /// Records read (parsed or not).
    records: usize,
    /// The events of the records that are events.
    events: Vec<Event<'a>>,
    /// Records that are not events (counted, left out).
    unreadable: u64,
}

impl<'a> Range<'a> {
    /// Parses `records` on `threads` threads; `None` when there are none.
    fn parse(
        records: &'a [(u64, Vec<u8>)],
        columns: &TypedColumns,
        threads: usize,
    ) -> Option<Range<'a>> {
        let (first, last) = (records.first()?.0, records.last()?.0);
        let (events, unreadable) = parse_all(records, columns, threads);
        Some(Range {
            first,
            last,
            records: records.len(),
            events,
            unreadable,
        })
    }
}

/// Parses records on `threads` threads, keeping log order: the events, and how many records
/// are not events. Records erased at a user's request are holes in the log, neither.
fn parse_all<'a>(
    records: &'a [(u64, Vec<u8>)],
    columns: &TypedColumns,
    threads: usize,
) -> (Vec<Event<'a>>, u64) {
    // Into a vector sized for the whole part: events are large, and growing it moves them.
    let parse_part = |part: &'a [(u64, Vec<u8>)]| {
        let mut events = Vec::with_capacity(part.len());
        let mut unreadable = 0;
        for (offset, record) in part {
            if spoor_log::erase::is_erased(record) {
                continue;
            }
            match parse(*offset, record, columns) {
                Ok(e) => events.push(e),
                Err(_) => unreadable += 1,
            }
        }
        (events, unreadable)
    };
    let threads = threads.clamp(1, 16);
    if threads == 1 || records.len() < 4096 {
        return parse_part(records);
    }
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| (part.len(), scope.spawn(move || parse_part(part))))
            .collect();
        let mut out = Vec::with_capacity(records.len());
        let mut unreadable = 0;
        for (len, h) in handles {
            match h.join() {
                Ok((events, u)) => {
                    out.extend(events);
                    unreadable += u;
                }
                // A parser that panicked read none of its part.
                Err(_) => unreadable += len as u64,
            }
        }
        (out, unreadable)
    })
}

/// The file in `state/` a running pipeline holds locked.
pub(crate) const LOCK_FILE: &str = "pipeline.lock";

/// Takes `state/pipeline.lock` for the runner's lifetime (released by the OS when the process
/// dies, so a crash never leaves it stale).
pub(crate) fn lock_data_dir(layout: &Layout) -> Result<std::fs::File, PipelineError> {
    let dir = layout.state();
    std::fs::create_dir_all(&dir)
        .map_err(|e| PipelineError::io("create the state directory", &dir, e))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| PipelineError::io("open the lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(PipelineError::Busy(path)),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(PipelineError::io("lock the lock file", &path, e))
        }
    }
}
