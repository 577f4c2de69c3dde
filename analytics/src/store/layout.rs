//! Where the pipeline's files are: Hive-style raw partitions and tables.
//!
//! ```text
//! DATA/raw/date=YYYY-MM-DD/hour=HH/event=NAME/source=SRC/part-*.parquet
//! DATA/tables/identities/*.parquet
//! ```

use std::path::{Path, PathBuf};

use crate::error::AnalyticsError;
use crate::params::TimeRange;
use crate::time::{DAY, Micros, day_index, parse_day};

/// One raw Parquet file and the partition it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawFile {
    /// Day number (days since 1970-01-01) of `date=`.
    pub day: i64,
    /// `hour=`, 0..=23.
    pub hour: u8,
    /// `event=`, decoded.
    pub event: String,
    /// `source=`, decoded.
    pub source: String,
    /// The file.
    pub path: PathBuf,
}

impl RawFile {
    /// First instant of the file's hour.
    pub fn hour_start(&self) -> Micros {
        self.day * DAY + self.hour as Micros * 3_600_000_000
    }

    /// True when every event of the hour lies inside `range` (no per-row time check needed).
    pub fn hour_inside(&self, range: &TimeRange) -> bool {
        let start = self.hour_start();
        start >= range.from && start + 3_600_000_000 <= range.to
    }
}

/// Lists the raw files whose hour overlaps `range`, of the given events (all when `None`),
/// sorted by day, hour, event, source and file name.
pub fn raw_files(
    root: &Path,
    events: Option<&[String]>,
    range: TimeRange,
) -> Result<Vec<RawFile>, AnalyticsError> {
    let raw = root.join("raw");
    let mut files = Vec::new();
    if !raw.exists() {
        return Ok(files);
    }
    let first_day = day_index(range.from);
    let last_day = day_index(range.to - 1);
    for (date, date_dir) in partitions(&raw, "date")? {
        let Some(day) = parse_day(&date) else {
            continue;
        };
        if day < first_day || day > last_day {
            continue;
        }
        for (hour, hour_dir) in partitions(&date_dir, "hour")? {
            let Ok(hour) = hour.parse::<u8>() else {
                continue;
            };
            let start = day * DAY + hour as Micros * 3_600_000_000;
            if start + 3_600_000_000 <= range.from || start >= range.to {
                continue;
            }
            for (event, event_dir) in partitions(&hour_dir, "event")? {
                if events.is_some_and(|wanted| !wanted.contains(&event)) {
                    continue;
                }
                for (source, source_dir) in partitions(&event_dir, "source")? {
                    for path in without_merged_inputs(parquet_files(&source_dir)?) {
                        files.push(RawFile {
                            day,
                            hour,
                            event: event.clone(),
                            source: source.clone(),
                            path,
                        });
                    }
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The Parquet files of a table directory (`DATA/tables/NAME/`), sorted; none when absent.
pub fn table_files(root: &Path, table: &str) -> Result<Vec<PathBuf>, AnalyticsError> {
    let dir = root.join("tables").join(table);
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    collect_parquet(&dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect_parquet(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), AnalyticsError> {
    for entry in read_dir(dir)? {
        if entry.is_dir() {
            collect_parquet(&entry, files)?;
        } else if is_parquet(&entry) {
            files.push(entry);
        }
    }
    Ok(())
}

fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "parquet")
        && !path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.') || name.starts_with('_'))
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, AnalyticsError> {
    let entries = std::fs::read_dir(dir).map_err(|error| AnalyticsError::io(dir, error))?;
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(
            entry
                .map_err(|error| AnalyticsError::io(dir, error))?
                .path(),
        );
    }
    Ok(paths)
}

/// The `key=value` subdirectories of `dir`, with decoded values.
fn partitions(dir: &Path, key: &str) -> Result<Vec<(String, PathBuf)>, AnalyticsError> {
    let prefix = format!("{key}=");
    let mut found = Vec::new();
    for path in read_dir(dir)? {
        if !path.is_dir() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if let Some(value) = name.strip_prefix(&prefix) {
            found.push((percent_decode(value), path));
        }
    }
    Ok(found)
}

fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, AnalyticsError> {
    let mut files: Vec<PathBuf> = read_dir(dir)?
        .into_iter()
        .filter(|path| is_parquet(path))
        .collect();
    files.sort();
    Ok(files)
}

/// Drops the files of one folder that a compaction has already replaced: the pipeline
/// renames the merged `part-A-B` file into place before it deletes its inputs, so a
/// range file whose log range lies inside another file's is an input about to go,
/// and its rows are in the merged file too.
fn without_merged_inputs(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let range = |path: &PathBuf| {
        path.file_name()
            .and_then(|name| name.to_str())
            .and_then(spoor_pipeline::range_file::parse_name)
    };
    let ranges: Vec<(u64, u64)> = paths.iter().filter_map(range).collect();
    paths
        .into_iter()
        .filter(|path| {
            range(path).is_none_or(|range| !spoor_pipeline::range_file::merged_away(&ranges, range))
        })
        .collect()
}

/// Opens every current Parquet file of one raw partition folder at once, sorted by
/// name: a snapshot a compaction running meanwhile cannot change, since the pipeline
/// only merges files of the same folder and an open file stays readable after it is
/// deleted. A file deleted between listing and opening (a merge that just finished)
/// makes it list the folder again.
pub fn open_folder(dir: &Path) -> Result<Vec<(PathBuf, std::fs::File)>, AnalyticsError> {
    spoor_pipeline::range_file::retry_vanished(AnalyticsError::is_vanished_file, || {
        without_merged_inputs(parquet_files(dir)?)
            .into_iter()
            .map(|path| match std::fs::File::open(&path) {
                Ok(file) => Ok((path, file)),
                Err(error) => Err(AnalyticsError::io(path, error)),
            })
            .collect()
    })
}

/// Decodes `%XX` escapes of a Hive partition value.
pub fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_string();
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok());
        match (
            bytes[i],
            hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_s_inputs_are_left_out_once_the_merged_file_is_there() {
        let names = [
            "part-00000000000000000000-00000000000000000009.parquet",
            "part-00000000000000000000-00000000000000000019.parquet",
            "part-00000000000000000010-00000000000000000019.parquet",
            "part-00000000000000000020-00000000000000000029.parquet",
            "other.parquet",
        ];
        let kept = without_merged_inputs(names.iter().map(PathBuf::from).collect());
        assert_eq!(
            kept,
            [names[1], names[3], names[4]].map(PathBuf::from).to_vec()
        );
    }

    #[test]
    fn decodes_partition_values() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }
}
