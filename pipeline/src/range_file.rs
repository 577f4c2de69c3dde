//! Files named by the log range they cover: `part-<first>-<last>.<ext>`.
//!
//! A range's outputs are written before the position commits, and made
//! durable by one filesystem sync before the checkpoint that commits it; on
//! start, files of uncommitted ranges are deleted, so a crash or a replay
//! overwrites rather than duplicates. Writes go to a dot-file and are renamed
//! into place, so a reader never sees half a file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::PipelineError;

/// A range-named file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeFile {
    /// First log offset covered.
    pub first: u64,
    /// Last log offset covered (inclusive).
    pub last: u64,
    /// Where it is.
    pub path: PathBuf,
}

/// `part-<first>-<last>.<ext>`, offsets zero-padded to 20 digits.
pub fn file_name(first: u64, last: u64, ext: &str) -> String {
    format!("part-{first:020}-{last:020}.{ext}")
}

/// The range of a `part-A-B.ext` name.
pub fn parse_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("part-")?;
    let (stem, _) = rest.split_once('.')?;
    let (a, b) = stem.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The entries of `dir` (none if the folder is missing).
pub fn entries(dir: &Path) -> Result<Vec<fs::DirEntry>, PipelineError> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.map_err(|e| PipelineError::io("read dir", dir, e)))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(PipelineError::io("read dir", dir, e)),
    }
}

/// The range files directly in `dir`, by first offset (none if the folder is missing).
pub fn list(dir: &Path) -> Result<Vec<RangeFile>, PipelineError> {
    let mut out = Vec::new();
    for entry in entries(dir)? {
        let name = entry.file_name();
        if let Some((first, last)) = name.to_str().and_then(parse_name) {
            out.push(RangeFile {
                first,
                last,
                path: entry.path(),
            });
        }
    }
    out.sort_by_key(|f| (f.first, std::cmp::Reverse(f.last)));
    Ok(out)
}

/// Whether `range` lies inside another of `ranges` (its own range may be among them):
/// the file is an input of a compaction whose merged file is already in place, and
/// its rows are in that file too. Readers leave such files out.
pub fn merged_away(ranges: &[(u64, u64)], range: (u64, u64)) -> bool {
    let (first, last) = range;
    ranges
        .iter()
        .any(|&(a, b)| a <= first && last <= b && (a, b) != range)
}

/// The range files of `dir` a reader should read, by first offset: [`list`] without
/// the inputs of a merge whose merged file is already in place ([`merged_away`]).
pub fn list_current(dir: &Path) -> Result<Vec<RangeFile>, PipelineError> {
    let files = list(dir)?;
    let ranges: Vec<(u64, u64)> = files.iter().map(|f| (f.first, f.last)).collect();
    Ok(files
        .into_iter()
        .filter(|f| !merged_away(&ranges, (f.first, f.last)))
        .collect())
}

/// How often [`retry_vanished`] runs a read again.
const READ_ATTEMPTS: usize = 5;

/// Runs `read` again (a few times at most) while it fails with an error `vanished`
/// says is a file that was listed and then not found: a compaction deleted it after
/// merging it, and a new listing finds the merged file instead. Generic over the
/// error so the analytics' readers retry the same way.
pub fn retry_vanished<T, E>(
    vanished: impl Fn(&E) -> bool,
    mut read: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        match read() {
            Err(e) if vanished(&e) && attempt < READ_ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// Every folder under `root` (itself included) that holds files, recursively.
pub fn walk_dirs(root: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            // A folder that is not there is not listed (unlike an empty one).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(PipelineError::io("read dir", &dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| PipelineError::io("read dir", &dir, e))?;
            let is_dir = entry
                .file_type()
                .map_err(|e| PipelineError::io("stat", &entry.path(), e))?
                .is_dir();
            if is_dir {
                stack.push(entry.path());
            }
        }
        out.push(dir);
    }
    Ok(out)
}

/// Deletes, in `dir`: temporaries, files of ranges starting at or after `from`, and files
/// whose range lies inside another file's (inputs of a compaction that was cut short).
/// Returns how many files it removed.
pub fn clean(dir: &Path, from: u64) -> Result<usize, PipelineError> {
    let mut removed = 0;
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name
                .to_str()
                .is_some_and(|n| n.starts_with(".part-") || n.starts_with(".late-"))
            {
                remove(&entry.path())?;
                removed += 1;
            }
        }
    }
    let (uncommitted, kept): (Vec<RangeFile>, Vec<RangeFile>) =
        list(dir)?.into_iter().partition(|f| f.first >= from);
    let ranges: Vec<(u64, u64)> = kept.iter().map(|f| (f.first, f.last)).collect();
    let merged_inputs = kept
        .into_iter()
        .filter(|f| merged_away(&ranges, (f.first, f.last)));
    for f in uncommitted.into_iter().chain(merged_inputs) {
        remove(&f.path)?;
        removed += 1;
    }
    Ok(removed)
}

fn remove(path: &Path) -> Result<(), PipelineError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PipelineError::io("remove", path, e)),
    }
}

/// Removes a file if it exists.
pub fn remove_file(path: &Path) -> Result<(), PipelineError> {
    remove(path)
}

/// The temporary name a file is written under before it is renamed to `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("part");
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `bytes` to `path` through a temp file and a rename, without syncing: for range
/// outputs, which the commit makes durable with [`sync_filesystem`].
pub fn write_unsynced(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    let tmp = temp_path(path);
    fs::write(&tmp, bytes).map_err(|e| PipelineError::io("write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| PipelineError::io("rename", path, e))
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename (fsync the folder after).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], with the bytes written into the file by `write`
/// (so they need not be held whole in memory first).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), PipelineError> {
    let tmp = temp_path(path);
    let mut file = File::create(&tmp).map_err(|e| PipelineError::io("create", &tmp, e))?;
    write(&mut file)
        .and_then(|()| file.sync_all())
        .map_err(|e| PipelineError::io("write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| PipelineError::io("rename", path, e))
}

/// fsyncs a folder so that files created or renamed in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), PipelineError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| PipelineError::io("fsync dir", dir, e))
}

/// Makes everything written under `dirs` (folders of one filesystem; missing ones are
/// skipped) durable: one `syncfs(2)` on Linux, far cheaper than an fsync per file when
/// ranges write hundreds of partition files; elsewhere an fsync of every file and folder.
pub fn sync_filesystem(dirs: &[PathBuf]) -> Result<(), PipelineError> {
    let dirs: Vec<&PathBuf> = dirs.iter().filter(|d| d.is_dir()).collect();
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Some(dir) = dirs.first() else {
            return Ok(());
        };
        let handle = File::open(dir).map_err(|e| PipelineError::io("open", dir, e))?;
        // SAFETY: syncfs on a file descriptor we own and keep open for the call.
        let rc = unsafe { libc::syncfs(handle.as_raw_fd()) };
        if rc != 0 {
            return Err(PipelineError::io(
                "syncfs",
                dir,
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        for root in dirs {
            for folder in walk_dirs(root)? {
                let entries =
                    fs::read_dir(&folder).map_err(|e| PipelineError::io("read dir", &folder, e))?;
                for entry in entries {
                    let path = entry
                        .map_err(|e| PipelineError::io("read dir", &folder, e))?
                        .path();
                    if path.is_file() {
                        File::open(&path)
                            .and_then(|f| f.sync_all())
                            .map_err(|e| PipelineError::io("fsync", &path, e))?;
                    }
                }
                sync_dir(&folder)?;
            }
        }
        Ok(())
    }
}

/// Creates `dir` and its parents, fsyncing each created level's parent.
pub fn create_dir_durable(dir: &Path) -> Result<(), PipelineError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durable(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(PipelineError::io("create dir", dir, e)),
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_clean_removes_uncommitted_and_covered() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(parse_name(&file_name(3, 17, "parquet")), Some((3, 17)));
        for (a, b) in [(0, 9), (10, 19), (0, 19), (20, 29), (30, 39)] {
            fs::write(dir.path().join(file_name(a, b, "bin")), b"x").unwrap();
        }
        fs::write(dir.path().join(".part-x.tmp"), b"x").unwrap();
        assert_eq!(clean(dir.path(), 30).unwrap(), 4);
        let left: Vec<_> = list(dir.path())
            .unwrap()
            .iter()
            .map(|f| (f.first, f.last))
            .collect();
        assert_eq!(left, vec![(0, 19), (20, 29)]);
    }
}
