//! Reading the pipeline's output: raw partitions and tables, into an [`EventTable`].
//!
//! A load lists only the partitions of the queried hours and events, projects only
//! the columns the query needs, reads one record batch at a time and keeps one
//! 32-byte row per event in range, so memory grows with the queried range only.

pub mod columns;
pub mod identity;
pub mod layout;
pub mod scan;

use std::path::{Path, PathBuf};

use spoor_pipeline::range_file::retry_vanished;

use crate::error::AnalyticsError;
use crate::params::TimeRange;
use crate::table::{EventTable, Interner, Key, NONE, Row};

use columns::{NumColumn, StrColumn, TimeColumn, json_property};
use identity::IdentityMap;
use layout::{RawFile, raw_files};

/// Column names of the raw tables the analytics read.
pub mod col {
    /// Skew-corrected event time.
    pub const EVENT_TIME: &str = "event_time";
    /// Person after identity stitching at write time.
    pub const PERSON_ID: &str = "person_id";
    /// Known user id.
    pub const USER_ID: &str = "user_id";
    /// Device-scoped anonymous id.
    pub const ANONYMOUS_ID: &str = "anonymous_id";
    /// Session id (from the pipeline's sessionizer).
    pub const SESSION_ID: &str = "session_id";
    /// Properties as JSON text.
    pub const PROPERTIES: &str = "properties";
    /// Typed revenue of conversions.
    pub const REVENUE: &str = "revenue";
    /// Experiment key of exposures.
    pub const EXPERIMENT: &str = "experiment";
    /// Variant of exposures.
    pub const VARIANT: &str = "variant";
    /// UTM source.
    pub const UTM_SOURCE: &str = "utm_source";
    /// UTM medium.
    pub const UTM_MEDIUM: &str = "utm_medium";
    /// UTM campaign.
    pub const UTM_CAMPAIGN: &str = "utm_campaign";
    /// Page referrer.
    pub const REFERRER: &str = "referrer";
}

/// The separator between source, medium and campaign in a channel tag.
pub const CHANNEL_SEPARATOR: char = '\u{1f}';

/// What a row's tag holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSource {
    /// Nothing.
    None,
    /// A property's value from the `properties` JSON (typed columns are renamed by the
    /// pipeline, `source` → `prop_source`; the JSON is the one unambiguous place),
    /// read only on events named `only_event` when given.
    Property {
        /// The property.
        name: String,
        /// The only event it is read on.
        only_event: Option<String>,
    },
    /// The variant of exposures to `experiment` (`exposure_event` rows of other
    /// experiments are dropped).
    Variant {
        /// The experiment key.
        experiment: String,
        /// The exposure event's name.
        exposure_event: String,
    },
    /// The campaign channel `source␟medium␟campaign`: UTM columns when
    /// `utm_source` is set, else `referrer␟referral␟` when a referrer is set.
    Channel,
}

/// What to read for a query.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Event names (all when `None`).
    pub events: Option<Vec<String>>,
    /// Time range of the events.
    pub range: TimeRange,
    /// What goes into each row's tag.
    pub tag: TagSource,
    /// Read `session_id`.
    pub session: bool,
    /// Read `revenue` into each row's value.
    pub value: bool,
}

/// A data directory written by the pipeline.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root` (holding `raw/` and `tables/`).
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The raw files of `events` (all when `None`) whose hour overlaps `range`.
    pub fn raw_files(
        &self,
        events: Option<&[String]>,
        range: TimeRange,
    ) -> Result<Vec<RawFile>, AnalyticsError> {
        raw_files(&self.root, events, range)
    }

    /// The identity links of `tables/identities/`.
    pub fn identities(&self) -> Result<IdentityMap, AnalyticsError> {
        IdentityMap::load(&self.root)
    }

    /// Reads the rows `spec` asks for, with identities applied. Files are read on
    /// as many threads as there are cores, each thread a contiguous share of the
    /// files (by bytes), and the shares are merged in file order. A file the
    /// pipeline merged away while it was being read makes it start over from a
    /// new listing (a few times at most).
    pub fn load(&self, spec: &LoadSpec) -> Result<EventTable, AnalyticsError> {
        retry_vanished(AnalyticsError::is_vanished_file, || self.load_once(spec))
    }

    fn load_once(&self, spec: &LoadSpec) -> Result<EventTable, AnalyticsError> {
        let identities = self.identities()?;
        let files = self.raw_files(spec.events.as_deref(), spec.range)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shares = split_by_size(&files, threads);
        let load_share = |share: &[RawFile]| -> Result<EventTable, AnalyticsError> {
            let mut loader = Loader {
                spec,
                identities: &identities,
                table: EventTable::default(),
                raw_ids: Interner::default(),
                resolved: Vec::new(),
            };
            for file in share {
                loader.read_file(file)?;
            }
            Ok(loader.table)
        };
        if shares.len() <= 1 {
            return load_share(&files);
        }
        let tables: Vec<Result<EventTable, AnalyticsError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter()
                .map(|share| scope.spawn(move || load_share(share)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut tables = tables.into_iter();
        let mut merged = tables.next().unwrap_or_else(|| Ok(EventTable::default()))?;
        for table in tables {
            merge_into(&mut merged, table?);
        }
        Ok(merged)
    }
}

/// Splits `files` into at most `parts` contiguous shares of about equal bytes.
fn split_by_size(files: &[RawFile], parts: usize) -> Vec<&[RawFile]> {
    let sizes: Vec<u64> = files
        .iter()
        .map(|file| std::fs::metadata(&file.path).map_or(1, |meta| meta.len()))
        .collect();
    let total: u64 = sizes.iter().sum::<u64>().max(1);
    let mut shares = Vec::new();
    let (mut start, mut sum) = (0, 0u64);
    for (i, size) in sizes.iter().enumerate() {
        sum += size;
        let target = total * (shares.len() as u64 + 1) / parts.max(1) as u64;
        if sum >= target && shares.len() + 1 < parts {
            shares.push(&files[start..=i]);
            start = i + 1;
        }
    }
    if start < files.len() {
        shares.push(&files[start..]);
    }
    shares
}

/// Appends `other`'s rows to `base`, re-keying its interned strings.
fn merge_into(base: &mut EventTable, other: EventTable) {
    fn keys(from: &Interner, to: &mut Interner) -> Vec<Key> {
        (0..from.len() as Key)
            .map(|key| to.intern(from.name(key)))
            .collect()
    }
    let remap = |map: &[Key], key: Key| if key == NONE { NONE } else { map[key as usize] };
    let persons = keys(&other.persons, &mut base.persons);
    let sessions = keys(&other.sessions, &mut base.sessions);
    let events = keys(&other.events, &mut base.events);
    let tags = keys(&other.tags, &mut base.tags);
    base.rows.reserve(other.rows.len());
    base.rows.extend(other.rows.into_iter().map(|row| Row {
        person: remap(&persons, row.person),
        session: remap(&sessions, row.session),
        event: remap(&events, row.event),
        tag: remap(&tags, row.tag),
        ..row
    }));
}

struct Loader<'a> {
    spec: &'a LoadSpec,
    identities: &'a IdentityMap,
    table: EventTable,
    /// Ids as written, interned; `resolved[raw]` is the person key after stitching.
    raw_ids: Interner,
    resolved: Vec<Key>,
}

/// How one file fills the tag.
enum FileTag<'s> {
    None,
    Property(&'s str),
    Variant(&'s str),
    Channel,
}

impl Loader<'_> {
    fn person_key(&mut self, id: &str) -> Key {
        let raw = self.raw_ids.intern(id);
        if raw as usize == self.resolved.len() {
            let person = self.identities.resolve(id);
            self.resolved.push(self.table.persons.intern(person));
        }
        self.resolved[raw as usize]
    }

    fn read_file(&mut self, file: &RawFile) -> Result<(), AnalyticsError> {
        let spec = self.spec;
        let file_tag = match &spec.tag {
            TagSource::None => FileTag::None,
            TagSource::Property { name, only_event } => match only_event {
                Some(event) if *event != file.event => FileTag::None,
                _ => FileTag::Property(name),
            },
            TagSource::Variant {
                experiment,
                exposure_event,
            } if *exposure_event == file.event => FileTag::Variant(experiment),
            TagSource::Variant { .. } => FileTag::None,
            TagSource::Channel => FileTag::Channel,
        };
        let mut columns = vec![
            col::EVENT_TIME,
            col::PERSON_ID,
            col::USER_ID,
            col::ANONYMOUS_ID,
        ];
        if spec.session {
            columns.push(col::SESSION_ID);
        }
        if spec.value {
            columns.push(col::REVENUE);
        }
        match file_tag {
            FileTag::None => {}
            FileTag::Property(_) => columns.push(col::PROPERTIES),
            FileTag::Variant(_) => columns.extend([col::EXPERIMENT, col::VARIANT, col::PROPERTIES]),
            FileTag::Channel => columns.extend([
                col::UTM_SOURCE,
                col::UTM_MEDIUM,
                col::UTM_CAMPAIGN,
                col::REFERRER,
            ]),
        }
        let event = self.table.events.intern(&file.event);
        let inside = file.hour_inside(&spec.range);
        let path = &file.path;
        scan::read_batches(path, &columns, |batch| {
            let time = TimeColumn::of(batch, col::EVENT_TIME, path)?;
            let person = StrColumn::of(batch, col::PERSON_ID, path)?;
            let user = StrColumn::of(batch, col::USER_ID, path)?;
            let anonymous = StrColumn::of(batch, col::ANONYMOUS_ID, path)?;
            let session = StrColumn::of(batch, col::SESSION_ID, path)?;
            let revenue = NumColumn::of(batch, col::REVENUE, path)?;
            let properties = StrColumn::of(batch, col::PROPERTIES, path)?;
            let tag_columns = match file_tag {
                FileTag::None => Vec::new(),
                FileTag::Property(_) => vec![StrColumn::Missing],
                FileTag::Variant(_) => vec![
                    string_or_missing(batch, col::EXPERIMENT, path),
                    string_or_missing(batch, col::VARIANT, path),
                ],
                FileTag::Channel => [
                    col::UTM_SOURCE,
                    col::UTM_MEDIUM,
                    col::UTM_CAMPAIGN,
                    col::REFERRER,
                ]
                .iter()
                .map(|name| string_or_missing(batch, name, path))
                .collect(),
            };
            for i in 0..batch.num_rows() {
                let Some(at) = time.get(i) else { continue };
                if !inside && !spec.range.contains(at) {
                    continue;
                }
                let Some(id) = person
                    .get(i)
                    .or_else(|| user.get(i))
                    .or_else(|| anonymous.get(i))
                else {
                    continue;
                };
                let tag = match file_tag {
                    FileTag::None => NONE,
                    FileTag::Property(name) => {
                        match tag_value(&tag_columns[0], &properties, name, i) {
                            Some(value) => self.table.tags.intern(&value),
                            None => NONE,
                        }
                    }
                    FileTag::Variant(experiment) => {
                        let exposed = tag_value(&tag_columns[0], &properties, col::EXPERIMENT, i);
                        if exposed.as_deref() != Some(experiment) {
                            continue;
                        }
                        match tag_value(&tag_columns[1], &properties, col::VARIANT, i) {
                            Some(variant) => self.table.tags.intern(&variant),
                            None => continue,
                        }
                    }
                    FileTag::Channel => channel_tag(&tag_columns, i, &mut self.table.tags),
                };
                let value = match revenue.get(i) {
                    Some(value) => value,
                    None if spec.value && revenue.is_missing() => properties
                        .get(i)
                        .and_then(|text| json_property(text, col::REVENUE))
                        .and_then(|text| text.parse().ok())
                        .unwrap_or(f64::NAN),
                    None => f64::NAN,
                };
                let session = match session.get(i) {
                    Some(id) => self.table.sessions.intern(id),
                    None => NONE,
                };
                let person = self.person_key(id);
                self.table.rows.push(Row {
                    time: at,
                    value,
                    person,
                    session,
                    event,
                    tag,
                });
            }
            Ok(())
        })
    }
}

/// A string column, or missing when the file has the column with another type.
fn string_or_missing<'a>(
    batch: &'a arrow::array::RecordBatch,
    name: &str,
    path: &Path,
) -> StrColumn<'a> {
    StrColumn::of(batch, name, path).unwrap_or(StrColumn::Missing)
}

/// A property from its typed column, else from the `properties` JSON.
fn tag_value(
    typed: &StrColumn<'_>,
    properties: &StrColumn<'_>,
    name: &str,
    i: usize,
) -> Option<String> {
    if typed.is_missing() {
        properties.get(i).and_then(|text| json_property(text, name))
    } else {
        typed.get(i).map(String::from)
    }
}

fn channel_tag<'a>(columns: &[StrColumn<'a>], i: usize, tags: &mut Interner) -> Key {
    let nonempty = |column: &StrColumn<'a>| column.get(i).filter(|value| !value.is_empty());
    let mut channel = String::new();
    if let Some(source) = nonempty(&columns[0]) {
        channel.push_str(source);
        channel.push(CHANNEL_SEPARATOR);
        channel.push_str(nonempty(&columns[1]).unwrap_or(""));
        channel.push(CHANNEL_SEPARATOR);
        channel.push_str(nonempty(&columns[2]).unwrap_or(""));
    } else if let Some(referrer) = nonempty(&columns[3]) {
        channel.push_str(referrer);
        channel.push(CHANNEL_SEPARATOR);
        channel.push_str("referral");
        channel.push(CHANNEL_SEPARATOR);
    } else {
        return NONE;
    }
    tags.intern(&channel)
}
