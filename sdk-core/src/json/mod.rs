//! JSON kept as text: event properties, traits and context travel through the
//! core as the JSON the host handed over, checked once and spliced into the
//! event, never parsed into a tree.
//!
//! The hand-written parts are small and checked against `serde_json` in the
//! tests: [`check`] (is this one valid JSON value), a scanner over checked
//! text (the top-level entries of an object, the items of an array, decoding
//! one string token) and [`push_string`] (writing a string token). Every
//! `serde_json` path that checks without building a `Value` links serde's
//! type-error messages and with them float formatting; together with `Value`
//! and its `BTreeMap` that was most of the browser SDK's WASM (BENCHMARKS.md,
//! "Browser SDK").

mod check;
mod properties;
mod scan;
mod write;

pub(crate) use check::check;
pub use properties::Properties;
pub(crate) use scan::{Entries, Items, decode_string};
pub(crate) use write::push_string;

/// Why a piece of JSON text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not valid JSON (syntax, unexpected end, nesting deeper than 127).
    #[error("{}", self.as_str())]
    Invalid,
    /// A `\u` escape is half of a UTF-16 surrogate pair without the other half.
    #[error("{}", self.as_str())]
    LoneSurrogate,
    /// Valid JSON, but not an object.
    #[error("{}", self.as_str())]
    NotAnObject,
    /// A number too large for a 64-bit float (`1e400`): the relay refuses it.
    #[error("{}", self.as_str())]
    NumberOutOfRange,
}

impl JsonError {
    /// The message (`Display` writes it), without `core::fmt`, which the browser SDK's WASM
    /// leaves out.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonError::Invalid => "not valid JSON",
            JsonError::LoneSurrogate => "a \\u escape is a lone UTF-16 surrogate",
            JsonError::NotAnObject => "not a JSON object",
            JsonError::NumberOutOfRange => "a number is too large for a 64-bit float",
        }
    }
}

#[cfg(test)]
mod tests;
