//! The in-memory form every computation works on: compact rows with interned keys.
//!
//! A loader (see [`crate::store`]) reads only the columns and partitions a query
//! needs and fills an [`EventTable`]; the computations in [`crate::funnel`],
//! [`crate::retention`], [`crate::attribution`] and [`crate::experiment`] are pure
//! functions of the table. Strings are interned once, so a row is 32 bytes.

use rustc_hash::FxHashMap;

use crate::time::Micros;

/// A dense id for an interned string (person, session, event name, tag).
pub type Key = u32;

/// The key of "no value" (no session, no tag).
pub const NONE: Key = Key::MAX;

/// Maps strings to dense keys `0..len()` and back.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    keys: FxHashMap<Box<str>, Key>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The key of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> Key {
        if let Some(&key) = self.keys.get(name) {
            return key;
        }
        let key = self.names.len() as Key;
        self.names.push(name.into());
        self.keys.insert(name.into(), key);
        key
    }

    /// The key of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<Key> {
        self.keys.get(name).copied()
    }

    /// The string of a key (`""` for [`NONE`] or an unknown key).
    pub fn name(&self, key: Key) -> &str {
        self.names.get(key as usize).map_or("", |name| name)
    }

    /// How many strings are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One event as the computations see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Event time (skew-corrected), microseconds since the epoch.
    pub time: Micros,
    /// Revenue for conversions (`NaN` when the event has none).
    pub value: f64,
    /// The person, after identity stitching.
    pub person: Key,
    /// The session, or [`NONE`].
    pub session: Key,
    /// The event name.
    pub event: Key,
    /// What the query looks at besides the name: a breakdown value, a variant or
    /// an attribution channel; [`NONE`] when absent.
    pub tag: Key,
}

/// Rows plus the interners that give their keys meaning.
#[derive(Debug, Default, Clone)]
pub struct EventTable {
    /// The rows, in any order.
    pub rows: Vec<Row>,
    /// Person ids.
    pub persons: Interner,
    /// Session ids.
    pub sessions: Interner,
    /// Event names.
    pub events: Interner,
    /// Tag values (breakdown values, variants, channels).
    pub tags: Interner,
}

impl EventTable {
    /// Adds one row from strings; `value` is the revenue if any. Used by tests and small callers.
    pub fn push(
        &mut self,
        person: &str,
        event: &str,
        time: Micros,
        tag: Option<&str>,
        value: Option<f64>,
    ) {
        let row = Row {
            time,
            value: value.unwrap_or(f64::NAN),
            person: self.persons.intern(person),
            session: NONE,
            event: self.events.intern(event),
            tag: tag.map_or(NONE, |tag| self.tags.intern(tag)),
        };
        self.rows.push(row);
    }

    /// Like [`EventTable::push`] with a session id.
    pub fn push_in_session(&mut self, person: &str, session: &str, event: &str, time: Micros) {
        self.push(person, event, time, None, None);
        let session = self.sessions.intern(session);
        if let Some(row) = self.rows.last_mut() {
            row.session = session;
        }
    }
}

/// Rows grouped by a unit (person or session), each group sorted by time.
pub struct Grouped {
    rows: Vec<Row>,
    starts: Vec<usize>,
}

impl Grouped {
    /// Groups `rows` by `unit(row)` (a dense key below `units`, or [`NONE`] to drop
    /// the row) with a counting sort, then sorts each group by time (stable, so
    /// the near-sorted input of hour partitions costs little).
    pub fn new(rows: &[Row], units: usize, unit: impl Fn(&Row) -> Key) -> Grouped {
        let mut starts = vec![0usize; units + 1];
        for row in rows {
            let key = unit(row);
            if key != NONE {
                starts[key as usize + 1] += 1;
            }
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let placeholder = Row {
            time: 0,
            value: 0.0,
            person: NONE,
            session: NONE,
            event: NONE,
            tag: NONE,
        };
        let mut sorted = vec![placeholder; starts[units]];
        for row in rows {
            let key = unit(row);
            if key != NONE {
                sorted[next[key as usize]] = *row;
                next[key as usize] += 1;
            }
        }
        for window in starts.windows(2) {
            sorted[window[0]..window[1]].sort_by_key(|row| row.time);
        }
        Grouped {
            rows: sorted,
            starts,
        }
    }

    /// The groups, in unit key order (empty groups skipped).
    pub fn groups(&self) -> impl Iterator<Item = &[Row]> {
        self.starts
            .windows(2)
            .filter(|window| window[1] > window[0])
            .map(|window| &self.rows[window[0]..window[1]])
    }
}

/// Splits a time-sorted slice into runs of rows with the same time.
pub fn same_time_runs(rows: &[Row]) -> impl Iterator<Item = &[Row]> {
    rows.chunk_by(|a, b| a.time == b.time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_unit_and_sorts_by_time() {
        let mut table = EventTable::default();
        table.push("b", "x", 5, None, None);
        table.push("a", "x", 3, None, None);
        table.push("b", "y", 1, None, None);
        let grouped = Grouped::new(&table.rows, table.persons.len(), |row| row.person);
        let groups: Vec<Vec<Micros>> = grouped
            .groups()
            .map(|g| g.iter().map(|r| r.time).collect())
            .collect();
        assert_eq!(groups, vec![vec![1, 5], vec![3]]);
    }
}
