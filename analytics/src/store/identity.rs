//! Identity stitching at read time: every id a person used maps to one person.
//!
//! The pipeline writes `person_id` with what it knew when the event arrived; an
//! anonymous visitor who logs in later is linked in `DATA/tables/identities/`.
//! Resolving each row's id through that table counts a person once across
//! devices and across the moment of login.

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::error::AnalyticsError;
use crate::store::columns::StrColumn;
use crate::store::layout::table_files;
use crate::store::scan::read_batches;

/// Maps ids (anonymous ids, earlier person ids, aliases) to the person they belong to.
#[derive(Debug, Default, Clone)]
pub struct IdentityMap {
    links: FxHashMap<String, String>,
}

/// Columns of the identities table: the linked id and the person it belongs to.
pub const IDENTITY_ID_COLUMNS: &[&str] = &["anonymous_id", "id", "previous_id"];
/// Column names accepted for the person an id belongs to.
pub const IDENTITY_PERSON_COLUMNS: &[&str] = &["person_id", "user_id"];

impl IdentityMap {
    /// Reads `DATA/tables/identities/` (an empty map when there is none).
    pub fn load(root: &Path) -> Result<IdentityMap, AnalyticsError> {
        let mut map = IdentityMap::default();
        let wanted: Vec<&str> = IDENTITY_ID_COLUMNS
            .iter()
            .chain(IDENTITY_PERSON_COLUMNS)
            .copied()
            .collect();
        for path in table_files(root, "identities")? {
            read_batches(&path, &wanted, |batch| {
                let id = first_present(batch, IDENTITY_ID_COLUMNS, &path)?;
                let person = first_present(batch, IDENTITY_PERSON_COLUMNS, &path)?;
                for i in 0..batch.num_rows() {
                    if let (Some(id), Some(person)) = (id.get(i), person.get(i))
                        && id != person
                    {
                        map.link(id, person);
                    }
                }
                Ok(())
            })?;
        }
        Ok(map)
    }

    /// Records that `id` belongs to `person`; the first link of an id wins (as in the pipeline).
    pub fn link(&mut self, id: &str, person: &str) {
        self.links
            .entry(id.to_string())
            .or_insert_with(|| person.to_string());
    }

    /// The person `id` belongs to (itself when unlinked), following links up to 16 deep.
    pub fn resolve<'a>(&'a self, id: &'a str) -> &'a str {
        let mut current = id;
        for _ in 0..16 {
            match self.links.get(current) {
                Some(next) if next != current => current = next,
                _ => break,
            }
        }
        current
    }

    /// How many ids are linked.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// True when nothing is linked.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

fn first_present<'a>(
    batch: &'a arrow::array::RecordBatch,
    names: &[&str],
    path: &Path,
) -> Result<StrColumn<'a>, AnalyticsError> {
    for name in names {
        let column = StrColumn::of(batch, name, path)?;
        if !column.is_missing() {
            return Ok(column);
        }
    }
    Ok(StrColumn::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_links() {
        let mut map = IdentityMap::default();
        map.link("anon-1", "u1");
        map.link("u1", "u2");
        map.link("loop", "loop");
        map.link("anon-1", "u9"); // a later link of the same id is ignored
        assert_eq!(map.resolve("anon-1"), "u2");
        assert_eq!(map.resolve("stranger"), "stranger");
        assert_eq!(map.resolve("loop"), "loop");
    }
}
