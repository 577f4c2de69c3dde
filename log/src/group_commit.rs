//! Group commit: many producers, one writer thread, one fsync per group.
//!
//! Producers hand over their records with a reply callback. The writer thread
//! takes everything that is waiting, writes it in one go, fsyncs once and then
//! answers every producer. A request is answered `Ok` only after its records
//! are durable, which is what lets the relay answer 2xx safely. Between small
//! groups the writer's wake-ups do not preempt other threads ([`crate::wake_policy`]).

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::wake_policy::WakePolicy;
use crate::{EventLog, LogError};

/// Why an append was not made durable; cloneable so a whole group can share it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AppendError {
    /// The disk is full or over quota: retry later.
    pub storage_full: bool,
    /// The underlying error, for logs.
    pub message: String,
}

impl From<&LogError> for AppendError {
    fn from(e: &LogError) -> Self {
        AppendError {
            storage_full: e.is_storage_full(),
            message: e.to_string(),
        }
    }
}

/// The answer to one append request: the offsets its records got.
pub type AppendResult = Result<Range<u64>, AppendError>;

/// Called once with the outcome of an append, on the writer thread; keep it short.
pub type Reply = Box<dyn FnOnce(AppendResult) + Send>;

/// What one group cost, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct GroupStats {
    /// Records written.
    pub records: u64,
    /// Bytes written, framing included.
    pub bytes: u64,
    /// Time the fsync took.
    pub fsync: Duration,
}

/// Called on the writer thread after each group that was made durable; keep it short.
pub type Observer = Box<dyn FnMut(&GroupStats) + Send>;

struct Request {
    records: Vec<Vec<u8>>,
    reply: Reply,
}

/// Bytes of records gathered into one group before it is written.
const MAX_GROUP_BYTES: usize = 8 << 20;

/// A running writer thread that owns an [`EventLog`].
pub struct GroupCommit {
    tx: Option<mpsc::Sender<Request>>,
    durable: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the writer thread for `log`.
    pub fn start(log: EventLog) -> Self {
        Self::observed(log, Box::new(|_| {}))
    }

    /// Starts the writer thread for `log`, telling `observer` about every durable group.
    pub fn observed(log: EventLog, mut observer: Observer) -> Self {
        let (tx, rx) = mpsc::channel::<Request>();
        let durable = Arc::new(AtomicU64::new(log.next_offset()));
        let published = Arc::clone(&durable);
        let thread = std::thread::Builder::new()
            .name("spoor-log-writer".into())
            .spawn(move || writer_loop(log, rx, &published, &mut observer))
            .ok();
        GroupCommit {
            tx: Some(tx),
            durable,
            thread,
        }
    }

    /// Queues `records` for the next group; `reply` gets their offsets once durable.
    pub fn append(&self, records: Vec<Vec<u8>>, reply: Reply) {
        let request = Request { records, reply };
        let Some(tx) = &self.tx else {
            (request.reply)(Err(closed()));
            return;
        };
        if let Err(mpsc::SendError(request)) = tx.send(request) {
            (request.reply)(Err(closed()));
        }
    }

    /// Records below this offset are durable; readers in the same process stop here.
    pub fn durable_offset(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.durable)
    }

    /// Stops accepting, writes what is queued, and joins the writer thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

fn closed() -> AppendError {
    AppendError {
        storage_full: false,
        message: LogError::Closed.to_string(),
    }
}

fn writer_loop(
    mut log: EventLog,
    rx: mpsc::Receiver<Request>,
    durable: &AtomicU64,
    observer: &mut Observer,
) {
    let mut group: Vec<Request> = Vec::new();
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    let mut policy = WakePolicy::default();
    while let Ok(first) = rx.recv() {
        let mut bytes = first.records.iter().map(Vec::len).sum::<usize>();
        group.push(first);
        while bytes < MAX_GROUP_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += next.records.iter().map(Vec::len).sum::<usize>();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        policy.follow(bytes);
        let mut counts = Vec::with_capacity(group.len());
        for request in &mut group {
            counts.push(request.records.len() as u64);
            payloads.append(&mut request.records);
        }
        let mut fsync = Duration::ZERO;
        let outcome = log.append(&payloads).and_then(|range| {
            let started = Instant::now();
            log.sync()?;
            fsync = started.elapsed();
            log.release_cache();
            Ok(range)
        });
        payloads.clear();
        match outcome {
            Ok(range) => {
                durable.store(range.end, Ordering::Release);
                let records = range.end - range.start;
                observer(&GroupStats {
                    records,
                    bytes: bytes as u64 + records * crate::record::HEADER_LEN as u64,
                    fsync,
                });
                let mut start = range.start;
                for (request, count) in group.drain(..).zip(counts) {
                    (request.reply)(Ok(start..start + count));
                    start += count;
                }
            }
            Err(e) => {
                let error = AppendError::from(&e);
                for request in group.drain(..) {
                    (request.reply)(Err(error.clone()));
                }
            }
        }
    }
}
