//! The consent gate: which categories may be stored and sent.
//!
//! Every event has a category (default `"analytics"`). Before the user
//! decides, a category is [`ConsentState::Pending`] (or granted, with
//! [`ConsentMode::GrantedUntilDecided`]). A decision lists the granted
//! categories; every other category is denied from then on.

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::ConsentMode;
use crate::json::{Properties, push_string};

/// Whether events of a category may be stored and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// No decision yet: events wait in memory only.
    Pending,
    /// Events are queued and sent.
    Granted,
    /// Events are discarded at once.
    Denied,
}

/// A set of categories: a sorted `Vec` without duplicates. A handful of
/// categories at most, and unlike a `BTreeSet<String>` it adds no B-tree code
/// of its own to the browser SDK's WASM (BENCHMARKS.md, "Browser SDK").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Categories(Vec<String>);

impl Categories {
    /// Whether `category` is in the set.
    pub fn contains(&self, category: &str) -> bool {
        self.0
            .binary_search_by(|c| c.as_str().cmp(category))
            .is_ok()
    }
}

impl FromIterator<String> for Categories {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        // Sorted insertion: a handful of categories, and no sort code linked.
        let mut categories: Vec<String> = Vec::new();
        for category in iter {
            if let Err(at) = categories.binary_search(&category) {
                categories.insert(at, category);
            }
        }
        Categories(categories)
    }
}

/// The persisted form of a decision (meta key [`ConsentGate::META_KEY`]):
/// `{"granted": [categories]}`, sorted.
#[derive(Debug)]
struct Decision {
    granted: Categories,
}

impl Decision {
    /// The persisted form, written by hand like the events (see `crate::json`).
    fn to_json(&self) -> String {
        let mut out = String::from("{\"granted\":[");
        for (i, category) in self.granted.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_string(&mut out, category);
        }
        out.push_str("]}");
        out
    }

    /// Reads the persisted form with the core's JSON text scanner rather
    /// than `serde_json::Value` or a derived `Deserialize` (whose error
    /// messages would link float formatting into the browser SDK's WASM).
    fn parse(text: &str) -> Option<Decision> {
        let object = Properties::from_json(text).ok()?;
        let granted = object.get_str_array("granted")?.into_iter().collect();
        Some(Decision { granted })
    }
}

/// Decides per category, from the mode and the user's latest decision.
#[derive(Debug, Clone)]
pub(crate) struct ConsentGate {
    mode: ConsentMode,
    granted: Option<Categories>,
}

impl ConsentGate {
    /// Meta key of the persisted decision.
    pub const META_KEY: &'static str = "consent";

    /// A gate from the mode and a persisted decision, if any (an unreadable one counts as none).
    pub fn new(mode: ConsentMode, persisted: Option<&str>) -> Self {
        let granted = persisted.and_then(Decision::parse).map(|d| d.granted);
        ConsentGate { mode, granted }
    }

    /// The state of `category` now.
    pub fn state(&self, category: &str) -> ConsentState {
        match (&self.granted, self.mode) {
            (Some(granted), _) if granted.contains(category) => ConsentState::Granted,
            (Some(_), _) => ConsentState::Denied,
            (None, ConsentMode::RequireDecision) => ConsentState::Pending,
            (None, ConsentMode::GrantedUntilDecided) => ConsentState::Granted,
        }
    }

    /// Records the user's decision; returns its persisted form.
    pub fn decide(&mut self, granted: Categories) -> String {
        let persisted = Decision {
            granted: granted.clone(),
        }
        .to_json();
        self.granted = Some(granted);
        persisted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_until_decided_then_only_listed_are_granted() {
        let mut gate = ConsentGate::new(ConsentMode::RequireDecision, None);
        assert_eq!(gate.state("analytics"), ConsentState::Pending);
        let saved = gate.decide(Categories::from_iter(["analytics".to_string()]));
        assert_eq!(gate.state("analytics"), ConsentState::Granted);
        assert_eq!(gate.state("marketing"), ConsentState::Denied);
        let restored = ConsentGate::new(ConsentMode::RequireDecision, Some(&saved));
        assert_eq!(restored.state("analytics"), ConsentState::Granted);
        assert_eq!(restored.state("marketing"), ConsentState::Denied);
    }

    #[test]
    fn categories_are_sorted_and_deduplicated_as_a_btree_set_was() {
        let categories: Categories = ["b", "a", "b", "", "c"]
            .map(String::from)
            .into_iter()
            .collect();
        assert_eq!(
            Decision {
                granted: categories.clone()
            }
            .to_json(),
            r#"{"granted":["","a","b","c"]}"#
        );
        let odd: Categories = ["q\"uote", "\u{1}"].map(String::from).into_iter().collect();
        let saved = Decision {
            granted: odd.clone(),
        }
        .to_json();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&saved).unwrap(),
            serde_json::json!({"granted": ["\u{1}", "q\"uote"]})
        );
        assert_eq!(Decision::parse(&saved).map(|d| d.granted), Some(odd));
        for c in ["", "a", "b", "c"] {
            assert!(categories.contains(c), "{c}");
        }
        assert!(!categories.contains("d"));
        assert!(!categories.contains("ab"));
    }

    #[test]
    fn granted_until_decided_mode() {
        let mut gate = ConsentGate::new(ConsentMode::GrantedUntilDecided, None);
        assert_eq!(gate.state("anything"), ConsentState::Granted);
        gate.decide(Categories::default());
        assert_eq!(gate.state("anything"), ConsentState::Denied);
    }
}
