//! Whether the log writer's wake-ups may preempt the thread running on a core.
//!
//! The writer wakes several times per group (a record arrives; its pages are
//! written; the flush is done). With many small requests, each wake-up that
//! preempts an HTTP thread or a client costs a context switch, and the thread
//! it preempted waits on that core's queue even while the other core falls
//! idle; those threads switch every few tens of µs anyway, so the writer gets
//! a core soon without preempting. With large groups (batches) the HTTP
//! threads run for long stretches, and a writer that waited for a whole time
//! slice would hold back every request behind it. So after a small group the
//! writer runs as `SCHED_BATCH` (Linux: the same share of the CPU, no
//! preemption on wake-up), after a large one as a normal thread
//! (BENCHMARKS.md, "Relay": single events 8% faster, batches unchanged).
//! The cost: while other threads run long stretches beside small groups (the
//! pipeline compacting in the same process), a group may wait up to one time
//! slice (a few ms) before it is written.

/// Groups of at least this many bytes make the writer's wake-ups preempt again.
pub const PREEMPTING_GROUP_BYTES: usize = 32 << 10;

/// The writer thread's current policy; changed only when a group's size asks
/// for the other one, so a steady load makes no system calls.
#[derive(Debug, Default)]
pub(crate) struct WakePolicy {
    batch: bool,
    /// The system refused a change (another OS, a sandbox): not tried again.
    refused: bool,
}

impl WakePolicy {
    /// Sets the calling thread's policy for a group of `bytes`. A refusal
    /// leaves the thread as it was, for good.
    pub(crate) fn follow(&mut self, bytes: usize) {
        let batch = bytes < PREEMPTING_GROUP_BYTES;
        if batch == self.batch || self.refused {
            return;
        }
        if set_batch(batch) {
            self.batch = batch;
        } else {
            self.refused = true;
        }
    }
}

#[cfg(target_os = "linux")]
fn set_batch(batch: bool) -> bool {
    let policy = if batch {
        libc::SCHED_BATCH
    } else {
        libc::SCHED_OTHER
    };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param for the call's duration; pid 0 is
    // the calling thread, and the policies need no privilege.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn set_batch(_batch: bool) -> bool {
    false
}
