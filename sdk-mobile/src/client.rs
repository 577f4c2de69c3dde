//! `SpoorClient`: the object apps hold. Every recording call checks its
//! arguments on the calling thread, hands the call to the native host's
//! background task and returns; the task (on the library's own `spoor`
//! thread) runs the core, commits the SQLite queue and does the sends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use spoor::{Alias, EventOptions as CoreOptions, Group, Identify, Properties, Screen, Track};
use spoor_core::Timestamp;
use tokio::runtime::{Handle, Runtime};

use crate::claim::DataDirClaim;
use crate::config::SpoorConfig;
use crate::error::SpoorError;
use crate::json::{JsonValue, convert_map};
use crate::stats::SpoorStats;

/// Longest a flush started by `flush`, `onForeground` or `onBackground` keeps
/// waiting for the relay's answer before it gives up (the events stay queued).
const FLUSH_WAIT: Duration = Duration::from_secs(60);

/// How long dropping an unclosed client keeps sending before it stops.
const DROP_TIMEOUT: Duration = Duration::from_secs(2);

/// Options every recording call accepts.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct EventOptions {
    /// Consent category of the event. Default `"analytics"`.
    #[uniffi(default = None)]
    pub category: Option<String>,
    /// When the event happened, if not now (events recorded late keep their time).
    #[uniffi(default = None)]
    pub timestamp: Option<SystemTime>,
    /// Context for this event only, merged over the configured context.
    #[uniffi(default)]
    pub context: HashMap<String, JsonValue>,
}

/// The Spoor client. Create one with `SpoorClient.configure(config)` at app
/// start and keep it for the life of the process.
///
/// Recording calls (`track`, `identify`, `screen`, `group`, `alias`, `reset`,
/// `setConsent`, `optOut`, `flush`, `onForeground`, `onBackground`) never wait
/// for the disk or the network: they check their arguments, hand the call to
/// the background thread and return. They throw `SpoorException` for bad
/// arguments and after `shutdown`. `stats` and `shutdown` wait for the
/// background thread; do not call them on the UI thread. Releasing the
/// client without `shutdown` (Kotlin `close()`, the last Swift reference)
/// sends for at most 2 s, blocking the releasing thread meanwhile.
#[derive(uniffi::Object)]
pub struct SpoorClient {
    spoor: spoor::Spoor,
    handle: Handle,
    runtime: Option<Runtime>,
    track_lifecycle_events: bool,
    max_event_bytes: usize,
    /// Held until shutdown or drop: no second client on the same queue meanwhile.
    claim: Mutex<Option<DataDirClaim>>,
}

#[uniffi::export]
impl SpoorClient {
    /// Checks `config`, opens (or creates) the queue in its data directory,
    /// resumes sending what an earlier run left unacknowledged, and starts the
    /// background thread. Throws for bad settings, a data directory that cannot
    /// be written, or one that another open client in this process uses.
    #[uniffi::constructor]
    pub fn configure(config: SpoorConfig) -> Result<Arc<Self>, SpoorError> {
        let checked = config.check()?;
        let claim = DataDirClaim::claim(&checked.data_dir)?;
        let max_event_bytes = checked.options.config.max_event_bytes;
        let queue = checked.data_dir.display().to_string();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("spoor")
            .enable_all()
            .build()
            .map_err(|e| SpoorError::Start(e.to_string()))?;
        let spoor = {
            let _context = runtime.enter();
            spoor::Spoor::start(checked.options).map_err(|e| match SpoorError::from(e) {
                SpoorError::Storage(why) => {
                    SpoorError::Storage(format!("cannot open the event queue in {queue}: {why}"))
                }
                other => other,
            })?
        };
        Ok(Arc::new(SpoorClient {
            spoor,
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            track_lifecycle_events: checked.track_lifecycle_events,
            max_event_bytes,
            claim: Mutex::new(Some(claim)),
        }))
    }

    /// Records that the user did something: `name` like `product_clicked`,
    /// with its properties.
    #[uniffi::method(default(options = None, properties))]
    pub fn track(
        &self,
        name: String,
        properties: HashMap<String, JsonValue>,
        options: Option<EventOptions>,
    ) -> Result<(), SpoorError> {
        required("eventName", &name)?;
        let (properties, options) = self.arguments("properties", properties, options)?;
        self.spoor.track(Track {
            name,
            properties,
            options,
        })?;
        Ok(())
    }

    /// Ties this device to a known user (`userId`, kept for later events) and
    /// records their traits. `null` records traits for the current user.
    #[uniffi::method(default(options = None, traits))]
    pub fn identify(
        &self,
        user_id: Option<String>,
        traits: HashMap<String, JsonValue>,
        options: Option<EventOptions>,
    ) -> Result<(), SpoorError> {
        if let Some(user_id) = &user_id {
            required("userId", user_id)?;
        }
        let (traits, options) = self.arguments("traits", traits, options)?;
        self.spoor.identify(Identify {
            user_id,
            traits,
            options,
        })?;
        Ok(())
    }

    /// Records a screen view.
    #[uniffi::method(default(options = None, properties))]
    pub fn screen(
        &self,
        name: String,
        properties: HashMap<String, JsonValue>,
        options: Option<EventOptions>,
    ) -> Result<(), SpoorError> {
        required("eventName", &name)?;
        let (properties, options) = self.arguments("properties", properties, options)?;
        self.spoor.screen(Screen {
            name,
            properties,
            options,
        })?;
        Ok(())
    }

    /// Associates the current user with a group (account, company) and its traits.
    #[uniffi::method(default(options = None, traits))]
    pub fn group(
        &self,
        group_id: String,
        traits: HashMap<String, JsonValue>,
        options: Option<EventOptions>,
    ) -> Result<(), SpoorError> {
        required("groupId", &group_id)?;
        let (traits, options) = self.arguments("traits", traits, options)?;
        self.spoor.group(Group {
            group_id,
            traits,
            options,
        })?;
        Ok(())
    }

    /// Merges a previous identity (default: the current userId, else the
    /// anonymousId) into `userId`, which later events carry.
    #[uniffi::method(default(previous_id = None, options = None))]
    pub fn alias(
        &self,
        user_id: String,
        previous_id: Option<String>,
        options: Option<EventOptions>,
    ) -> Result<(), SpoorError> {
        required("userId", &user_id)?;
        let (_, options) = self.arguments("context", HashMap::new(), options)?;
        self.spoor.alias(Alias {
            user_id,
            previous_id,
            options,
        })?;
        Ok(())
    }

    /// Forgets the user (logout): a new anonymousId, no userId, a new session.
    pub fn reset(&self) -> Result<(), SpoorError> {
        Ok(self.spoor.reset()?)
    }

    /// Sends what is queued now instead of waiting for `flushAt` or the
    /// flush interval. Returns at once; the send happens in the background.
    pub fn flush(&self) -> Result<(), SpoorError> {
        let spoor = self.spoor.clone();
        // A task on the library's runtime hands the flush over and waits for its answer.
        self.handle
            .spawn(async move { spoor.flush(FLUSH_WAIT).await });
        Ok(())
    }

    /// The user's consent decision: events of these categories are stored and
    /// sent, all others are discarded, and queued events of other categories
    /// are deleted. Events recorded before the decision were held in memory.
    pub fn set_consent(&self, categories: Vec<String>) -> Result<(), SpoorError> {
        Ok(self.spoor.set_consent(categories)?)
    }

    /// Denies every category: nothing more is stored or sent, and the queue is emptied.
    pub fn opt_out(&self) -> Result<(), SpoorError> {
        Ok(self.spoor.opt_out()?)
    }

    /// Call when the app comes to the foreground. Records `Application Opened`
    /// if lifecycle events are on (the first event after `sessionTimeout` starts
    /// a new session) and sends what piled up while the app was suspended.
    pub fn on_foreground(&self) -> Result<(), SpoorError> {
        if self.track_lifecycle_events {
            self.track("Application Opened".into(), HashMap::new(), None)?;
        }
        self.flush()
    }

    /// Call when the app goes to the background. Records `Application
    /// Backgrounded` if lifecycle events are on and sends what is queued
    /// while the OS still lets the app run; the background thread writes every
    /// recorded event to the queue on its next turn, so a later kill loses nothing.
    pub fn on_background(&self) -> Result<(), SpoorError> {
        if self.track_lifecycle_events {
            self.track("Application Backgrounded".into(), HashMap::new(), None)?;
        }
        self.flush()
    }

    /// Queue sizes and counters. Waits for the background thread (briefly).
    pub fn stats(&self) -> Result<SpoorStats, SpoorError> {
        let stats = self.handle.block_on(self.spoor.stats())?;
        Ok(SpoorStats::from(stats))
    }

    /// Sends what is queued for at most `timeoutMs`, keeps the rest in the
    /// queue for the next start, and stops the background thread. Later calls
    /// throw. Blocks for up to `timeoutMs`.
    pub fn shutdown(&self, timeout_ms: i64) -> Result<SpoorStats, SpoorError> {
        let timeout = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let stats = self.handle.block_on(self.spoor.shutdown(timeout));
        // The queue is closed (or was already): another client may open it now.
        self.claim
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Ok(SpoorStats::from(stats?))
    }
}

impl SpoorClient {
    /// Converts the properties (or traits) and options of a call, refusing
    /// non-finite numbers, deep nesting and values over the event size limit.
    fn arguments(
        &self,
        what: &str,
        values: HashMap<String, JsonValue>,
        options: Option<EventOptions>,
    ) -> Result<(Properties, CoreOptions), SpoorError> {
        let values = convert_map(what, values)?;
        let options = options.unwrap_or_default();
        let context = convert_map("options.context", options.context)?;
        let min_bytes = values.min_bytes + context.min_bytes;
        if min_bytes > self.max_event_bytes {
            return Err(SpoorError::InvalidArgument(format!(
                "the event takes at least {min_bytes} bytes as JSON, over the limit of {} bytes",
                self.max_event_bytes
            )));
        }
        let timestamp = options.timestamp.map(to_timestamp).transpose()?;
        let options = CoreOptions {
            category: options.category,
            context: context.map.into(),
            timestamp,
            ..CoreOptions::default()
        };
        Ok((values.map.into(), options))
    }
}

impl Drop for SpoorClient {
    fn drop(&mut self) {
        // A client dropped without `shutdown` still writes and sends what it can.
        let _ = self.handle.block_on(self.spoor.shutdown(DROP_TIMEOUT));
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(100));
        }
    }
}

/// The core's rule for required fields, checked before the call leaves the app's thread.
fn required(field: &'static str, value: &str) -> Result<(), SpoorError> {
    if value.is_empty() {
        return Err(SpoorError::from(spoor::Error::Core(
            spoor_core::Error::MissingField(field),
        )));
    }
    Ok(())
}

fn to_timestamp(time: SystemTime) -> Result<Timestamp, SpoorError> {
    let since_epoch = time.duration_since(UNIX_EPOCH).map_err(|_| {
        SpoorError::InvalidArgument(String::from("options.timestamp is before 1970"))
    })?;
    let millis = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
    Ok(Timestamp::from_millis(millis))
}
