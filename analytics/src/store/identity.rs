//! Identity stitching at read time: every id a person used maps to one person.
//!
//! The pipeline writes `person_id` with what it knew when the event arrived; an
//! anonymous visitor who logs in later is linked in `DATA/tables/identities/`.
//! Resolving each row's id through those links counts a person once across
//! devices and across the moment of login. The links are read by the pipeline's
//! own reader (`spoor_pipeline::identity::read`), which resolves chains.

use std::collections::HashMap;
use std::path::Path;

use crate::error::AnalyticsError;

/// Maps ids (anonymous ids, earlier person ids, aliases) to the person they belong to.
#[derive(Debug, Default, Clone)]
pub struct IdentityMap {
    links: HashMap<String, String>,
}

impl IdentityMap {
    /// Reads the identity links of the data directory (an empty map when there are none).
    pub fn load(root: &Path) -> Result<IdentityMap, AnalyticsError> {
        let links = spoor_pipeline::identity::read(root).map_err(AnalyticsError::Identities)?;
        Ok(IdentityMap { links })
    }

    /// A map from resolved links (`id → person`).
    pub fn from_links(links: HashMap<String, String>) -> IdentityMap {
        IdentityMap { links }
    }

    /// The person `id` belongs to (itself when unlinked).
    pub fn resolve<'a>(&'a self, id: &'a str) -> &'a str {
        self.links.get(id).map_or(id, String::as_str)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlinked_ids_are_their_own_person() {
        let map = IdentityMap::from_links([("anon-1".to_string(), "u1".to_string())].into());
        assert_eq!(map.resolve("anon-1"), "u1");
        assert_eq!(map.resolve("stranger"), "stranger");
        let empty = IdentityMap::load(Path::new("/nonexistent/spoor-data")).unwrap();
        assert!(empty.is_empty());
    }
}
