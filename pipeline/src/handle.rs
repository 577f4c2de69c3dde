//! [`Pipeline`]: the consumer on its own thread, for `spoor up` and `spoor pipeline`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::PipelineConfig;
use crate::error::PipelineError;
use crate::runner::{Followed, Runner};

/// A running pipeline; [`Pipeline::stop`] finishes the current range and returns.
///
/// If a range fails (a full disk, say), the pipeline records the error, waits
/// and starts again from the committed position.
pub struct Pipeline {
    stop: Arc<AtomicBool>,
    last_error: Arc<Mutex<Option<String>>>,
    thread: Option<JoinHandle<()>>,
}

const RETRY_AFTER: Duration = Duration::from_secs(5);

impl Pipeline {
    /// Opens the consumer of `data_dir` (failing fast if its state is unreadable) and starts
    /// following the log on a thread of its own.
    pub fn start(data_dir: &Path, config: PipelineConfig) -> Result<Pipeline, PipelineError> {
        let runner = Runner::open(data_dir, config.clone())?;
        let stop = Arc::new(AtomicBool::new(false));
        let last_error = Arc::new(Mutex::new(None));
        let thread = {
            let stop = stop.clone();
            let last_error = last_error.clone();
            let data_dir = data_dir.to_path_buf();
            std::thread::Builder::new()
                .name("spoor-pipeline".into())
                .spawn(move || follow(runner, data_dir, config, &stop, &last_error))
                .map_err(|e| {
                    PipelineError::io("spawn the pipeline thread for", &data_dir_of_err(), e)
                })?
        };
        Ok(Pipeline {
            stop,
            last_error,
            thread: Some(thread),
        })
    }

    /// The last error a range hit, if any (the pipeline retries by itself).
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// Whether the pipeline thread is still running.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops after the current range and waits for the thread.
    pub fn stop(mut self) -> Result<(), PipelineError> {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.join().map_err(|_| PipelineError::Panicked)?;
        }
        Ok(())
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn data_dir_of_err() -> PathBuf {
    PathBuf::from("spoor-pipeline")
}

fn follow(
    mut runner: Runner,
    data_dir: PathBuf,
    config: PipelineConfig,
    stop: &AtomicBool,
    last_error: &Mutex<Option<String>>,
) {
    let report = |e: PipelineError| {
        tracing::error!(
            "the pipeline stopped on an error; it starts again from the committed position in {} s: {e}",
            RETRY_AFTER.as_secs()
        );
        if let Ok(mut slot) = last_error.lock() {
            *slot = Some(e.to_string());
        }
    };
    loop {
        match runner.follow(stop) {
            Ok(Followed::Stopped) => return,
            Ok(Followed::Rebuild) => {
                // A user was erased: a new runner rebuilds the outputs without them.
                drop(runner);
                match Runner::open(&data_dir, config.clone()) {
                    Ok(r) => {
                        runner = r;
                        continue;
                    }
                    Err(e) => report(e),
                }
            }
            Err(e) => {
                report(e);
                // Let go of the failed runner (its lock on the folder, its threads).
                drop(runner);
            }
        }
        // Start again from the committed position once the cause may have passed.
        runner = loop {
            let mut waited = Duration::ZERO;
            while waited < RETRY_AFTER {
                if stop.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
                waited += Duration::from_millis(50);
            }
            match Runner::open(&data_dir, config.clone()) {
                Ok(r) => break r,
                Err(e) => report(e),
            }
        };
    }
}
