//! CPU time from Linux's `/proc`, read around each round of `spoor bench
//! relay`: what a server and the load generator spend per request, and how
//! much of the machine stayed unused. Elsewhere every reading is `None`.

use std::path::Path;
use std::time::Duration;

/// Whose CPU time to count.
#[derive(Debug, Clone)]
pub enum Counted {
    /// The threads of this process whose names start with one of these
    /// (Linux keeps the first 15 bytes of a thread's name).
    Threads(&'static [&'static str]),
    /// A process with its child processes (nginx's master and workers).
    Process(u32),
}

/// The CPU time `who` has used so far, from the on-CPU nanoseconds of
/// `/proc/.../schedstat`.
pub fn used(who: &Counted) -> Option<Duration> {
    let nanos = match who {
        Counted::Threads(prefixes) => {
            let mut total = 0;
            for task in std::fs::read_dir("/proc/self/task").ok()? {
                let dir = task.ok()?.path();
                let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
                if prefixes.iter().any(|prefix| name.starts_with(prefix)) {
                    total += on_cpu(&dir).unwrap_or(0);
                }
            }
            total
        }
        Counted::Process(pid) => {
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            let mut total = process(*pid)?;
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                total += process(child)?;
            }
            total
        }
    };
    Some(Duration::from_nanos(nanos))
}

/// The machine's clock ticks so far, all cores together, from the first line
/// of `/proc/stat`: (ticks idle or waiting for I/O, all ticks).
pub fn machine() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let first = ticks.get(..8)?;
    Some((first[3] + first[4], first.iter().sum()))
}

/// All threads of process `pid`, in nanoseconds on a CPU.
fn process(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        total += on_cpu(&task.ok()?.path()).unwrap_or(0);
    }
    Some(total)
}

/// One thread's nanoseconds on a CPU: the first field of its `schedstat`;
/// `None` once the thread has ended (what it used is no longer counted, so a
/// thread that ends during a round undercounts that round).
fn on_cpu(task: &Path) -> Option<u64> {
    std::fs::read_to_string(task.join("schedstat"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(d: Duration) {
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < d {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    /// A named thread's CPU time is counted once it runs, and none before.
    #[test]
    fn counts_the_named_threads() {
        if machine().is_none() {
            return; // not Linux
        }
        let counted = Counted::Threads(&["cpu-test-spin"]);
        assert_eq!(used(&counted), Some(Duration::ZERO));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let spinner = std::thread::Builder::new()
            .name("cpu-test-spinner".into())
            .spawn(move || {
                spin(Duration::from_millis(200));
                rx.recv().ok();
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let mut during = Duration::ZERO;
        for _ in 0..100 {
            during = used(&counted).unwrap();
            if during >= Duration::from_millis(150) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        tx.send(()).unwrap();
        spinner.join().unwrap();
        assert!(during >= Duration::from_millis(150), "{during:?}");
    }

    /// A process is counted with its children; the machine's unused time is
    /// part of its total.
    #[test]
    fn counts_a_process_and_the_machine() {
        let Some((unused, total)) = machine() else {
            return; // not Linux
        };
        assert!(unused <= total && total > 0);
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5",
            ])
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut seen = Duration::ZERO;
        for _ in 0..100 {
            seen = used(&Counted::Process(pid)).unwrap_or_default();
            if seen >= Duration::from_millis(20) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(seen >= Duration::from_millis(20), "{seen:?}");
    }
}
