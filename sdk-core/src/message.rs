//! What the application records: one struct per call (track, identify, page,
//! screen, group, alias), each with [`EventOptions`].

use alloc::string::String;

#[cfg(feature = "std")]
use serde_json::Value;

use crate::json::Properties;
use crate::time::Timestamp;

/// Options every call accepts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventOptions {
    /// Consent category; `None` means the configured default (`"analytics"`).
    pub category: Option<String>,
    /// Context for this event only, merged over the client's context.
    pub context: Properties,
    /// Event time if not "now" (e.g. an event that happened earlier).
    pub timestamp: Option<Timestamp>,
    /// The user this event is about, for this event only (a backend tracking
    /// many users); the client's own userId is left as it is.
    pub user_id: Option<String>,
    /// The anonymous id for this event only; the client's own is left as it is.
    pub anonymous_id: Option<String>,
}

impl EventOptions {
    /// Whether the call names its own user (`user_id` or `anonymous_id`): then
    /// the event carries exactly those ids, never the client's, and an
    /// identify or alias leaves the client's identity alone.
    pub fn names_user(&self) -> bool {
        self.user_id.is_some() || self.anonymous_id.is_some()
    }
}

/// A named user action.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// Event name, e.g. `product_clicked`. Must not be empty.
    pub name: String,
    /// Event properties.
    pub properties: Properties,
    /// Category, context and time.
    pub options: EventOptions,
}

impl Track {
    /// A track call for `name` with no properties.
    pub fn new(name: impl Into<String>) -> Self {
        Track {
            name: name.into(),
            ..Track::default()
        }
    }

    /// Adds one property.
    #[cfg(feature = "std")]
    pub fn property(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Sets the consent category.
    pub fn category(mut self, category: impl Into<String>) -> Self {
        self.options.category = Some(category.into());
        self
    }

    /// Makes this event about `user_id` (see [`EventOptions::user_id`]).
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.options.user_id = Some(user_id.into());
        self
    }
}

/// Ties the device to a known user and records traits. Sets the client's userId.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identify {
    /// The known user id; `None` records traits for the current (maybe anonymous) user.
    pub user_id: Option<String>,
    /// User traits (email, plan, ...).
    pub traits: Properties,
    /// Category, context and time.
    pub options: EventOptions,
}

/// A web page view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Page name, if the app names its pages.
    pub name: Option<String>,
    /// Page properties (url, path, referrer, title, ...).
    pub properties: Properties,
    /// Category, context and time.
    pub options: EventOptions,
}

/// A mobile screen view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Screen {
    /// Screen name. Must not be empty.
    pub name: String,
    /// Screen properties.
    pub properties: Properties,
    /// Category, context and time.
    pub options: EventOptions,
}

/// Associates the current user with a group (account, company).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// Group id. Must not be empty.
    pub group_id: String,
    /// Group traits.
    pub traits: Properties,
    /// Category, context and time.
    pub options: EventOptions,
}

/// Merges a previous identity into `user_id`. Sets the client's userId.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alias {
    /// The new (canonical) user id. Must not be empty.
    pub user_id: String,
    /// The id being merged; `None` means the current userId, else the anonymousId.
    pub previous_id: Option<String>,
    /// Category, context and time.
    pub options: EventOptions,
}

/// Any one call, for hosts that forward calls through a channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// See [`Track`].
    Track(Track),
    /// See [`Identify`].
    Identify(Identify),
    /// See [`Page`].
    Page(Page),
    /// See [`Screen`].
    Screen(Screen),
    /// See [`Group`].
    Group(Group),
    /// See [`Alias`].
    Alias(Alias),
}

impl Message {
    /// The options of whichever call this is.
    pub fn options(&self) -> &EventOptions {
        match self {
            Message::Track(m) => &m.options,
            Message::Identify(m) => &m.options,
            Message::Page(m) => &m.options,
            Message::Screen(m) => &m.options,
            Message::Group(m) => &m.options,
            Message::Alias(m) => &m.options,
        }
    }
}

macro_rules! message_from {
    ($($kind:ident),*) => {$(
        impl From<$kind> for Message {
            fn from(m: $kind) -> Self {
                Message::$kind(m)
            }
        }
    )*};
}
message_from!(Track, Identify, Page, Screen, Group, Alias);
