//! The async client handle: cheap to clone, records on the calling thread by
//! handing the call to the background task.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use spoor_core::{
    Alias, Group, Identify, MemoryStorage, Message, Page, Screen, SqliteStorage, Storage, Track,
};
use tokio::sync::{mpsc, oneshot};

use crate::clock::{now, seed};
use crate::error::Error;
use crate::options::{Options, QueueStore};
use crate::transport::Transport;
use crate::worker::{Command, Counters, Worker};

/// Counters of the core plus those of the native host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// The core's queue sizes and counters.
    pub core: spoor_core::Stats,
    /// Calls dropped because the channel to the task was full.
    pub dropped_overloaded: u64,
    /// Calls the core refused (empty name, event over 32 KiB, after shutdown).
    pub refused: u64,
    /// Failed storage commits (retried).
    pub storage_errors: u64,
}

/// The Spoor client for async Rust: `track` and friends return at once; a
/// tokio task batches, sends and retries.
#[derive(Debug, Clone)]
pub struct Spoor {
    tx: mpsc::Sender<Command>,
    counters: Arc<Counters>,
}

impl Spoor {
    /// Starts the client on the current tokio runtime.
    ///
    /// Opens the queue (SQLite or memory), resumes what an earlier run left
    /// unacknowledged, and spawns the background task.
    pub fn start(options: Options) -> Result<Spoor, Error> {
        let (spoor, worker) = Spoor::prepare(options)?;
        tokio::spawn(worker.run());
        Ok(spoor)
    }

    /// The handle and the task, not yet running (the blocking client runs it on its own thread).
    pub(crate) fn prepare(options: Options) -> Result<(Spoor, Worker), Error> {
        let storage: Box<dyn Storage + Send> = match &options.queue {
            QueueStore::Memory => Box::new(MemoryStorage::new()),
            QueueStore::Sqlite(path) => {
                Box::new(SqliteStorage::open(path).map_err(spoor_core::Error::from)?)
            }
        };
        let core = spoor_core::Client::new(options.config.clone(), storage, seed(), now())?;
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(options.request_timeout)
            .build()?;
        let transport = Transport::new(http, options.batch_url(), options.write_key.clone());
        let (tx, rx) = mpsc::channel(options.channel_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            core,
            rx,
            transport,
            counters: Arc::clone(&counters),
            drop_timeout: options.drop_timeout,
        };
        Ok((Spoor { tx, counters }, worker))
    }

    /// Records a track call.
    pub fn track(&self, track: Track) -> Result<(), Error> {
        self.record(Message::Track(track))
    }

    /// Records an identify call; a given userId sticks to later events.
    pub fn identify(&self, identify: Identify) -> Result<(), Error> {
        self.record(Message::Identify(identify))
    }

    /// Records a page view.
    pub fn page(&self, page: Page) -> Result<(), Error> {
        self.record(Message::Page(page))
    }

    /// Records a screen view.
    pub fn screen(&self, screen: Screen) -> Result<(), Error> {
        self.record(Message::Screen(screen))
    }

    /// Records a group call.
    pub fn group(&self, group: Group) -> Result<(), Error> {
        self.record(Message::Group(group))
    }

    /// Records an alias call.
    pub fn alias(&self, alias: Alias) -> Result<(), Error> {
        self.record(Message::Alias(alias))
    }

    /// Records any call. Takes the time now and hands the call to the task;
    /// never blocks. If the task is far behind, the call is dropped and counted.
    pub fn record(&self, message: Message) -> Result<(), Error> {
        self.send(Command::Record(message, now()))
    }

    /// Forgets the user: new anonymousId, no userId, new session.
    pub fn reset(&self) -> Result<(), Error> {
        self.send(Command::Reset(now()))
    }

    /// The consent decision: these categories granted, all others denied (queued ones purged).
    pub fn set_consent<I>(&self, granted: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let granted = granted
            .into_iter()
            .map(|c| c.as_ref().to_string())
            .collect();
        self.send(Command::SetConsent(granted, now()))
    }

    /// Denies every category and purges the queue.
    pub fn opt_out(&self) -> Result<(), Error> {
        self.send(Command::SetConsent(Vec::new(), now()))
    }

    /// Sends everything recorded so far and waits until the relay has
    /// acknowledged it (through retries), at most `timeout`.
    pub async fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        let deadline = now().saturating_add(timeout);
        self.send_waiting(Command::Flush { deadline, reply })
            .await?;
        match answer.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::FlushTimeout),
            Err(_) => Err(Error::Closed),
        }
    }

    /// Queue sizes and counters.
    pub async fn stats(&self) -> Result<Stats, Error> {
        let (reply, answer) = oneshot::channel();
        self.send_waiting(Command::Stats(reply)).await?;
        let core = answer.await.map_err(|_| Error::Closed)?;
        Ok(self.with_counters(core))
    }

    /// Stops taking calls, sends what is queued for at most `timeout`, writes
    /// the rest to the queue for the next start and ends the task. Every clone
    /// of this handle is closed.
    pub async fn shutdown(&self, timeout: Duration) -> Result<Stats, Error> {
        let (reply, answer) = oneshot::channel();
        self.send_waiting(Command::Shutdown { timeout, reply })
            .await?;
        let core = answer.await.map_err(|_| Error::Closed)?;
        Ok(self.with_counters(core))
    }

    pub(crate) fn with_counters(&self, core: spoor_core::Stats) -> Stats {
        Stats {
            core,
            dropped_overloaded: self.counters.overloaded.load(Ordering::Relaxed),
            refused: self.counters.refused.load(Ordering::Relaxed),
            storage_errors: self.counters.storage_errors.load(Ordering::Relaxed),
        }
    }

    /// Hands a call over without waiting; a full channel drops it.
    fn send(&self, command: Command) -> Result<(), Error> {
        match self.tx.try_send(command) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.overloaded.fetch_add(1, Ordering::Relaxed);
                Err(Error::Overloaded)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Error::Closed),
        }
    }

    /// Hands a control call over, waiting for room (control calls are never dropped).
    async fn send_waiting(&self, command: Command) -> Result<(), Error> {
        self.tx.send(command).await.map_err(|_| Error::Closed)
    }

    /// Like `send_waiting`, from a thread outside any async runtime.
    pub(crate) fn send_blocking(&self, command: Command) -> Result<(), Error> {
        self.tx.blocking_send(command).map_err(|_| Error::Closed)
    }
}
