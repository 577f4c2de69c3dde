//! The consent gate: which categories may be stored and sent.
//!
//! Every event has a category (default `"analytics"`). Before the user
//! decides, a category is [`ConsentState::Pending`] (or granted, with
//! [`ConsentMode::GrantedUntilDecided`]). A decision lists the granted
//! categories; every other category is denied from then on.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::config::ConsentMode;

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

/// The persisted form of a decision (meta key [`ConsentGate::META_KEY`]):
/// `{"granted": [categories]}`.
#[derive(Debug, Serialize)]
struct Decision {
    granted: BTreeSet<String>,
}

impl Decision {
    /// Reads the persisted form through `serde_json::Value` rather than a
    /// derived `Deserialize`, whose error messages would link float
    /// formatting into the browser SDK's WASM.
    fn parse(text: &str) -> Option<Decision> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let granted = value
            .get("granted")?
            .as_array()?
            .iter()
            .map(|c| c.as_str().map(String::from))
            .collect::<Option<BTreeSet<String>>>()?;
        Some(Decision { granted })
    }
}

/// Decides per category, from the mode and the user's latest decision.
#[derive(Debug, Clone)]
pub(crate) struct ConsentGate {
    mode: ConsentMode,
    granted: Option<BTreeSet<String>>,
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
    pub fn decide(&mut self, granted: BTreeSet<String>) -> String {
        let persisted = serde_json::to_string(&Decision {
            granted: granted.clone(),
        })
        .unwrap_or_default();
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
        let saved = gate.decide(BTreeSet::from(["analytics".to_string()]));
        assert_eq!(gate.state("analytics"), ConsentState::Granted);
        assert_eq!(gate.state("marketing"), ConsentState::Denied);
        let restored = ConsentGate::new(ConsentMode::RequireDecision, Some(&saved));
        assert_eq!(restored.state("analytics"), ConsentState::Granted);
        assert_eq!(restored.state("marketing"), ConsentState::Denied);
    }

    #[test]
    fn granted_until_decided_mode() {
        let mut gate = ConsentGate::new(ConsentMode::GrantedUntilDecided, None);
        assert_eq!(gate.state("anything"), ConsentState::Granted);
        gate.decide(BTreeSet::new());
        assert_eq!(gate.state("anything"), ConsentState::Denied);
    }
}
