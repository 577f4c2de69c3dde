//! [`Meta`]: the few small key-value pairs a storage keeps beside the queue.

use alloc::string::String;
use alloc::vec::Vec;

/// A small map from key to value, in insertion order: the anonymousId,
/// userId, consent, session and drop count a storage keeps. A `Vec` rather
/// than a `BTreeMap`, whose code for two value types was a tenth of the
/// browser SDK's WASM (BENCHMARKS.md, "Browser SDK"); there are five keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for Meta<V> {
    fn default() -> Self {
        Meta {
            entries: Vec::new(),
        }
    }
}

impl<V> Meta<V> {
    /// An empty map.
    pub fn new() -> Self {
        Meta::default()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(core::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs, in the order the keys were first inserted.
    pub fn iter(&self) -> MetaIter<'_, V> {
        MetaIter {
            inner: self.entries.iter(),
        }
    }
}

impl<V> FromIterator<(String, V)> for Meta<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut meta = Meta::new();
        for (key, value) in iter {
            meta.insert(key, value);
        }
        meta
    }
}

/// Iterator over a [`Meta`]'s pairs.
#[derive(Debug, Clone)]
pub struct MetaIter<'a, V> {
    inner: core::slice::Iter<'a, (String, V)>,
}

impl<'a, V> Iterator for MetaIter<'a, V> {
    type Item = (&'a String, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k, v))
    }
}

impl<'a, V> IntoIterator for &'a Meta<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = MetaIter<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut meta = Meta::new();
        assert_eq!(meta.insert("a".to_string(), 1), None);
        assert_eq!(meta.insert("b".to_string(), 2), None);
        assert_eq!(meta.insert("a".to_string(), 3), Some(1));
        assert_eq!(meta.get("a"), Some(&3));
        assert_eq!(meta.len(), 2);
        assert!(meta.contains_key("b"));
        assert_eq!(meta.remove("b"), Some(2));
        assert_eq!(meta.remove("b"), None);
        assert!(!meta.contains_key("b"));
        let pairs: Vec<_> = meta.iter().collect();
        assert_eq!(pairs, [(&"a".to_string(), &3)]);
        let collected: Meta<i32> = [("x".to_string(), 1), ("x".to_string(), 2)]
            .into_iter()
            .collect();
        assert_eq!(collected.get("x"), Some(&2));
        assert_eq!(collected.len(), 1);
    }
}
