//! The output writer: encodes and writes a range's files on its own threads
//! while the runner goes on with the next range.
//!
//! Stages turn a range into [`Output`]s (Arrow batches and bytes, owned, so
//! nothing borrows the range's records); [`Writer::submit`] hands them over
//! once the previous range's outputs are written, which keeps at most one
//! range in flight. A commit calls [`Writer::finish`] before it syncs.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use parquet::file::properties::WriterProperties;

use crate::error::PipelineError;
use crate::range_file;
use crate::sink::parquet_file;

/// One file of a range's outputs, written through a temp file and a rename (not synced: the
/// commit does that).
pub enum Output {
    /// A Parquet file of one or more batches.
    Parquet {
        /// Where it goes (its folder is created).
        path: PathBuf,
        /// The rows' schema.
        schema: Arc<Schema>,
        /// The rows, in order.
        batches: Vec<RecordBatch>,
        /// Writer settings (boxed: they are large).
        props: Box<WriterProperties>,
    },
    /// A Parquet file whose batch is built on the writer's thread, written with the usual
    /// settings.
    Built {
        /// Where it goes (its folder is created).
        path: PathBuf,
        /// Builds the rows.
        build: Box<dyn FnOnce() -> Result<RecordBatch, PipelineError> + Send>,
        /// Zstd level.
        zstd_level: i32,
    },
    /// A file of bytes.
    Bytes {
        /// Where it goes (its folder is created).
        path: PathBuf,
        /// The content.
        bytes: Vec<u8>,
    },
}

impl Output {
    /// A Parquet file with the usual settings at zstd `level`.
    pub fn parquet(path: PathBuf, batch: RecordBatch, level: i32) -> Output {
        Output::Parquet {
            path,
            schema: batch.schema(),
            batches: vec![batch],
            props: Box::new(parquet_file::properties(level)),
        }
    }

    fn path(&self) -> &PathBuf {
        match self {
            Output::Parquet { path, .. }
            | Output::Built { path, .. }
            | Output::Bytes { path, .. } => path,
        }
    }

    /// Writes the file.
    pub fn write(self) -> Result<(), PipelineError> {
        if let Some(dir) = self.path().parent() {
            std::fs::create_dir_all(dir).map_err(|e| PipelineError::io("create dir", dir, e))?;
        }
        match self {
            Output::Parquet {
                path,
                schema,
                batches,
                props,
            } => parquet_file::write_batches(&path, schema, batches, *props),
            Output::Built {
                path,
                build,
                zstd_level,
            } => parquet_file::write(&path, build()?, parquet_file::properties(zstd_level)),
            Output::Bytes { path, bytes } => range_file::write_unsynced(&path, &bytes),
        }
    }
}

#[derive(Default)]
struct Queue {
    outputs: VecDeque<Output>,
    /// Outputs taken by a thread and not yet written.
    writing: usize,
    /// The first error since the last [`Writer::finish`].
    error: Option<PipelineError>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when outputs arrive, when one is written, and on close.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Threads that write [`Output`]s.
pub struct Writer {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Writer {
    /// Starts `threads` writer threads (at least one).
    pub fn start(threads: usize) -> Result<Writer, PipelineError> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        });
        let mut writer = Writer {
            shared,
            threads: Vec::new(),
        };
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&writer.shared);
            let handle = std::thread::Builder::new()
                .name(format!("spoor-write-{i}"))
                .spawn(move || work(&shared))
                .map_err(|e| PipelineError::io("start writer", &PathBuf::from("."), e))?;
            writer.threads.push(handle);
        }
        Ok(writer)
    }

    /// Waits until everything submitted so far is written; returns the first error since the
    /// last call.
    pub fn finish(&self) -> Result<(), PipelineError> {
        let mut q = self.shared.lock();
        while !q.outputs.is_empty() || q.writing > 0 {
            q = self
                .shared
                .changed
                .wait(q)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        q.error.take().map_or(Ok(()), Err)
    }

    /// Waits for the outputs submitted before (returning their error, if any), then queues
    /// `outputs`.
    pub fn submit(&self, outputs: Vec<Output>) -> Result<(), PipelineError> {
        self.finish()?;
        if outputs.is_empty() {
            return Ok(());
        }
        self.shared.lock().outputs.extend(outputs);
        self.shared.changed.notify_all();
        Ok(())
    }
}

impl Drop for Writer {
    /// Drops what is queued (those ranges were never committed), lets the threads finish the
    /// file in hand and joins them.
    fn drop(&mut self) {
        {
            let mut q = self.shared.lock();
            q.outputs.clear();
            q.closed = true;
        }
        self.shared.changed.notify_all();
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

fn work(shared: &Shared) {
    loop {
        let output = {
            let mut q = shared.lock();
            loop {
                if let Some(o) = q.outputs.pop_front() {
                    q.writing += 1;
                    break o;
                }
                if q.closed {
                    return;
                }
                q = shared
                    .changed
                    .wait(q)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        // A panic in an encoder must not leave `writing` counted forever (finish would hang).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| output.write()))
            .unwrap_or(Err(PipelineError::Panicked));
        let mut q = shared.lock();
        q.writing -= 1;
        if let Err(e) = result {
            q.error.get_or_insert(e);
        }
        drop(q);
        shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_in_the_background_and_reports_the_first_error_once() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::start(2).unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let outputs = (0..20)
            .map(|i| Output::Bytes {
                path: dir.path().join(format!("sub/{i}.bin")),
                bytes: vec![i as u8; 1000],
            })
            .chain([Output::Bytes {
                path: blocker.join("cannot/exist.bin"),
                bytes: vec![1],
            }])
            .collect();
        writer.submit(outputs).unwrap();
        assert!(writer.finish().is_err(), "a folder under a file fails");
        assert!(writer.finish().is_ok(), "the error is reported once");
        for i in 0..20u8 {
            let got = std::fs::read(dir.path().join(format!("sub/{i}.bin"))).unwrap();
            assert_eq!(got, vec![i; 1000]);
        }
        let leftovers = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count();
        assert_eq!(leftovers, 0, "no temp files remain");
    }
}
