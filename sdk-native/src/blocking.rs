//! The client for code that is not async: the same background task, on its
//! own thread with a single-threaded tokio runtime.
//!
//! Its methods must not be called from inside an async runtime (they block);
//! use [`crate::Spoor`] there.

use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use spoor_core::{Alias, Group, Identify, Message, Page, Screen, Track};
use tokio::sync::oneshot;

use crate::clock::now;
use crate::error::Error;
use crate::handle::{Spoor as AsyncSpoor, Stats};
use crate::options::Options;
use crate::worker::Command;

/// The Spoor client for blocking code. Dropping it shuts it down (sending for
/// at most `Options::drop_timeout`) and joins its thread.
#[derive(Debug)]
pub struct Spoor {
    handle: Option<AsyncSpoor>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Spoor {
    /// Starts the client and its background thread.
    pub fn start(options: Options) -> Result<Spoor, Error> {
        let (handle, worker) = AsyncSpoor::prepare(options)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("spoor".into())
            .spawn(move || runtime.block_on(worker.run()))?;
        Ok(Spoor {
            handle: Some(handle),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Records a track call (never blocks).
    pub fn track(&self, track: Track) -> Result<(), Error> {
        self.handle()?.track(track)
    }

    /// Records an identify call.
    pub fn identify(&self, identify: Identify) -> Result<(), Error> {
        self.handle()?.identify(identify)
    }

    /// Records a page view.
    pub fn page(&self, page: Page) -> Result<(), Error> {
        self.handle()?.page(page)
    }

    /// Records a screen view.
    pub fn screen(&self, screen: Screen) -> Result<(), Error> {
        self.handle()?.screen(screen)
    }

    /// Records a group call.
    pub fn group(&self, group: Group) -> Result<(), Error> {
        self.handle()?.group(group)
    }

    /// Records an alias call.
    pub fn alias(&self, alias: Alias) -> Result<(), Error> {
        self.handle()?.alias(alias)
    }

    /// Records any call.
    pub fn record(&self, message: Message) -> Result<(), Error> {
        self.handle()?.record(message)
    }

    /// Forgets the user: new anonymousId, no userId, new session.
    pub fn reset(&self) -> Result<(), Error> {
        self.handle()?.reset()
    }

    /// The consent decision: these categories granted, all others denied.
    pub fn set_consent<I>(&self, granted: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.handle()?.set_consent(granted)
    }

    /// Denies every category and purges the queue.
    pub fn opt_out(&self) -> Result<(), Error> {
        self.handle()?.opt_out()
    }

    /// Sends everything recorded so far and blocks until it is acknowledged, at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        let deadline = now().saturating_add(timeout);
        self.handle()?
            .send_blocking(Command::Flush { deadline, reply })?;
        match answer.blocking_recv() {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::FlushTimeout),
            Err(_) => Err(Error::Closed),
        }
    }

    /// Queue sizes and counters.
    pub fn stats(&self) -> Result<Stats, Error> {
        let (reply, answer) = oneshot::channel();
        self.handle()?.send_blocking(Command::Stats(reply))?;
        let core = answer.blocking_recv().map_err(|_| Error::Closed)?;
        Ok(self.handle()?.with_counters(core))
    }

    /// Sends what is queued for at most `timeout`, keeps the rest in the
    /// queue for the next start, and stops the background thread.
    pub fn shutdown(&self, timeout: Duration) -> Result<Stats, Error> {
        let (reply, answer) = oneshot::channel();
        self.handle()?
            .send_blocking(Command::Shutdown { timeout, reply })?;
        let core = answer.blocking_recv().map_err(|_| Error::Closed)?;
        self.join();
        Ok(self.handle()?.with_counters(core))
    }

    fn handle(&self) -> Result<&AsyncSpoor, Error> {
        self.handle.as_ref().ok_or(Error::Closed)
    }

    fn join(&self) {
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Spoor {
    fn drop(&mut self) {
        // Closing the channel makes the task shut down within `drop_timeout`.
        self.handle = None;
        self.join();
    }
}
