//! Who the events are about: a persisted anonymousId and, once known, a userId.

use alloc::string::{String, ToString};

use crate::ids::{to_text, uuid_v4};
use crate::rng::Rng;

/// The device's anonymous id and the known user id.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub anonymous_id: String,
    pub user_id: Option<String>,
}

impl Identity {
    /// Meta key of the anonymous id.
    pub const ANONYMOUS_ID_KEY: &'static str = "anonymousId";
    /// Meta key of the user id.
    pub const USER_ID_KEY: &'static str = "userId";

    /// The persisted identity, or a fresh anonymous id (and `true`: it must be persisted).
    pub fn load(anonymous_id: Option<&str>, user_id: Option<&str>, rng: &mut Rng) -> (Self, bool) {
        let (anonymous_id, fresh) = match anonymous_id {
            Some(id) if !id.is_empty() => (id.to_string(), false),
            _ => (new_anonymous_id(rng), true),
        };
        let identity = Identity {
            anonymous_id,
            user_id: user_id.map(str::to_string),
        };
        (identity, fresh)
    }

    /// Forgets the user: a new anonymous id and no user id.
    pub fn reset(&mut self, rng: &mut Rng) {
        self.anonymous_id = new_anonymous_id(rng);
        self.user_id = None;
    }
}

fn new_anonymous_id(rng: &mut Rng) -> String {
    to_text(uuid_v4(rng))
}
