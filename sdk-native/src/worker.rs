//! The background task: owns the sans-IO core, feeds it calls and clock
//! readings, performs the sends it asks for and sleeps until it wants to wake.

use std::future::{Future, pending};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use spoor_core::{BatchId, Client, FlushMark, Message, SendOutcome, Storage, Timestamp};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::now;
use crate::transport::Transport;

/// The core with whichever queue the options chose.
pub(crate) type Core = Client<Box<dyn Storage + Send>>;

/// How long to wait before retrying a failed storage commit.
const STORAGE_RETRY: Duration = Duration::from_secs(1);

/// Calls handled per wake-up before the task looks at sends and timers again.
const COMMANDS_PER_TURN: usize = 4_096;

/// After handling calls, the task waits this long before listening again, so
/// callers in a burst hand over calls without waking it each time (a wake-up
/// costs the calling thread microseconds; a send to a busy task costs nanoseconds).
const COALESCE: Duration = Duration::from_millis(1);

/// A call from a handle to the task.
#[derive(Debug)]
pub(crate) enum Command {
    Record(Message, Timestamp),
    Reset(Timestamp),
    SetConsent(Vec<String>, Timestamp),
    Flush {
        deadline: Timestamp,
        reply: oneshot::Sender<bool>,
    },
    Stats(oneshot::Sender<spoor_core::Stats>),
    Shutdown {
        timeout: Duration,
        reply: oneshot::Sender<spoor_core::Stats>,
    },
}

/// Counters the handles and the task share.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub overloaded: AtomicU64,
    pub refused: AtomicU64,
    pub storage_errors: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A flush someone is waiting for.
struct PendingFlush {
    mark: FlushMark,
    deadline: Timestamp,
    reply: oneshot::Sender<bool>,
}

/// The task's state.
pub(crate) struct Worker {
    pub core: Core,
    pub rx: mpsc::Receiver<Command>,
    pub transport: Transport,
    pub counters: Arc<Counters>,
    pub drop_timeout: Duration,
}

impl Worker {
    /// Runs until shut down (or every handle is gone and the queue is drained or timed out).
    pub async fn run(mut self) {
        let mut in_flight: Option<(BatchId, JoinHandle<SendOutcome>)> = None;
        let mut flushes: Vec<PendingFlush> = Vec::new();
        let mut shutdown_replies: Vec<oneshot::Sender<spoor_core::Stats>> = Vec::new();
        let mut closing = false;
        let mut channel_open = true;
        let mut storage_retry_at: Option<Timestamp> = None;
        let mut listen_at: Option<tokio::time::Instant> = None;

        loop {
            let now = now();
            if in_flight.is_some() && storage_retry_at.is_none_or(|at| now >= at) {
                // Keep the staged writes small while a batch is out (poll_transmit commits otherwise).
                if self.core.commit().is_err() {
                    Counters::bump(&self.counters.storage_errors);
                    storage_retry_at = Some(now.saturating_add(STORAGE_RETRY));
                }
            }
            if in_flight.is_none() && storage_retry_at.is_none_or(|at| now >= at) {
                storage_retry_at = None;
                match self.core.poll_transmit(now) {
                    Ok(Some(transmit)) => {
                        let transport = self.transport.clone();
                        let send = tokio::spawn(async move { transport.send(transmit.body).await });
                        in_flight = Some((transmit.batch_id, send));
                    }
                    Ok(None) => {}
                    Err(_) => {
                        Counters::bump(&self.counters.storage_errors);
                        storage_retry_at = Some(now.saturating_add(STORAGE_RETRY));
                    }
                }
            }
            self.settle_flushes(&mut flushes, now);
            if closing && self.core.is_finished(now) {
                break;
            }

            let wake = [
                self.core.poll_timeout(),
                storage_retry_at,
                flushes.iter().map(|f| f.deadline).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = wake.map(|at| tokio::time::sleep(at.saturating_since(now)));
            let listening = listen_at.is_none_or(|at| tokio::time::Instant::now() >= at);
            if listening {
                listen_at = None;
            }
            let pause = listen_at.map(tokio::time::sleep_until);

            tokio::select! {
                command = self.rx.recv(), if channel_open && listening => match command {
                    Some(command) => {
                        listen_at = Some(tokio::time::Instant::now() + COALESCE);
                        self.handle(command, &mut flushes, &mut shutdown_replies, &mut closing);
                        for _ in 1..COMMANDS_PER_TURN {
                            match self.rx.try_recv() {
                                Ok(command) => {
                                    self.handle(command, &mut flushes, &mut shutdown_replies, &mut closing)
                                }
                                Err(_) => break,
                            }
                        }
                    }
                    None => {
                        channel_open = false;
                        if !closing {
                            closing = true;
                            self.core.shutdown(self.drop_timeout, crate::clock::now());
                        }
                    }
                },
                outcome = maybe(in_flight.as_mut().map(|(_, send)| send)) => {
                    if let Some((batch_id, _)) = in_flight.take() {
                        // A panicked send task counts as a network error: the batch is retried.
                        let outcome = outcome.unwrap_or(SendOutcome::NetworkError);
                        self.core.on_response(batch_id, outcome, crate::clock::now());
                    }
                }
                _ = maybe(sleep.map(Box::pin)) => {}
                _ = maybe(pause.map(Box::pin)) => {}
            }
        }

        // Refuse further calls before answering, so a caller that saw the
        // shutdown complete never has a call accepted and then lost.
        self.rx.close();
        while let Ok(command) = self.rx.try_recv() {
            if matches!(command, Command::Record(..)) {
                Counters::bump(&self.counters.refused);
            }
        }
        if let Some((_, send)) = in_flight {
            // Past the shutdown deadline: its events stay queued for the next start.
            send.abort();
        }
        if self.core.commit().is_err() {
            Counters::bump(&self.counters.storage_errors);
        }
        let stats = self.core.stats();
        for reply in shutdown_replies {
            let _ = reply.send(stats);
        }
        for flush in flushes {
            let _ = flush.reply.send(self.core.is_flushed(flush.mark));
        }
    }

    fn handle(
        &mut self,
        command: Command,
        flushes: &mut Vec<PendingFlush>,
        shutdown_replies: &mut Vec<oneshot::Sender<spoor_core::Stats>>,
        closing: &mut bool,
    ) {
        match command {
            Command::Record(message, at) => {
                if self.core.record(message, at).is_err() {
                    Counters::bump(&self.counters.refused);
                }
            }
            Command::Reset(at) => self.core.reset(at),
            Command::SetConsent(granted, at) => {
                if self.core.set_consent(granted, at).is_err() {
                    Counters::bump(&self.counters.storage_errors);
                }
            }
            Command::Flush { deadline, reply } => {
                let mark = self.core.flush(now());
                flushes.push(PendingFlush {
                    mark,
                    deadline,
                    reply,
                });
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
            Command::Shutdown { timeout, reply } => {
                if !*closing {
                    *closing = true;
                    self.core.shutdown(timeout, now());
                }
                shutdown_replies.push(reply);
            }
        }
    }

    /// Answers flushes that are done (`true`) or past their deadline (`false`).
    fn settle_flushes(&self, flushes: &mut Vec<PendingFlush>, now: Timestamp) {
        let mut i = 0;
        while i < flushes.len() {
            let done = self.core.is_flushed(flushes[i].mark);
            if done || now >= flushes[i].deadline {
                let flush = flushes.swap_remove(i);
                let _ = flush.reply.send(done);
            } else {
                i += 1;
            }
        }
    }
}

/// Awaits the future if there is one, else never completes.
async fn maybe<F: Future + Unpin>(future: Option<F>) -> F::Output {
    match future {
        Some(future) => future.await,
        None => pending().await,
    }
}
