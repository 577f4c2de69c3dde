//! One client per data directory in a process: two clients on one queue
//! would both send it (duplicates) and fight over its meta values.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::SpoorError;

/// Data directories with an open client in this process.
static CLAIMED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// The claim of an open client on its data directory; released on drop.
#[derive(Debug)]
pub struct DataDirClaim(PathBuf);

impl DataDirClaim {
    /// Claims `dir` (which exists), or says which client holds it.
    pub fn claim(dir: &Path) -> Result<Self, SpoorError> {
        let dir = std::fs::canonicalize(dir).map_err(|e| {
            SpoorError::Storage(format!(
                "cannot resolve the data directory {}: {e}",
                dir.display()
            ))
        })?;
        let mut claimed = CLAIMED.lock().unwrap_or_else(PoisonError::into_inner);
        if !claimed.get_or_insert_with(HashSet::new).insert(dir.clone()) {
            return Err(SpoorError::InvalidArgument(format!(
                "a SpoorClient is already open on the data directory {}; keep one client per \
                 process (or shut the other one down first)",
                dir.display()
            )));
        }
        Ok(DataDirClaim(dir))
    }
}

impl Drop for DataDirClaim {
    fn drop(&mut self) {
        let mut claimed = CLAIMED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = claimed.as_mut() {
            set.remove(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_claimed_once_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirClaim::claim(dir.path()).unwrap();
        let again = DataDirClaim::claim(&dir.path().join(".")).unwrap_err();
        assert!(again.to_string().contains("already open"), "{again}");
        drop(first);
        DataDirClaim::claim(dir.path()).unwrap();
    }
}
