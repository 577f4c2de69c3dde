//! Checking that text is one valid JSON value (RFC 8259), as
//! `serde_json::from_str::<serde_json::Value>` accepts it, without building it.
//!
//! Hand-written because every `serde_json` path that checks without building
//! a `Value` (`RawValue`, `IgnoredAny`) links serde's type-error messages and
//! with them float formatting into the browser SDK's WASM (BENCHMARKS.md,
//! "Browser SDK"). The tokens are [`crate::json_lex`]'s; the tests check the
//! whole against `serde_json`.

use super::JsonError;
use crate::json_lex::{Lexer, finite_f64};

/// Deepest nesting of arrays and objects accepted, as in `serde_json`.
const MAX_DEPTH: usize = 127;

/// Checks `text`: one JSON value with optional whitespace around it, no lone
/// UTF-16 surrogate in a `\u` escape, nesting at most [`MAX_DEPTH`] deep, and
/// every number finite as an `f64` (`1e400` is refused, as `serde_json` and the
/// relay refuse it).
pub(crate) fn check(text: &str) -> Result<(), JsonError> {
    let mut lex = Lexer::new(text);
    value(&mut lex, 0)?;
    lex.space();
    if lex.at == lex.bytes.len() {
        Ok(())
    } else {
        Err(JsonError::Invalid)
    }
}

fn value(lex: &mut Lexer<'_>, depth: usize) -> Result<(), JsonError> {
    lex.space();
    let invalid = |_| JsonError::Invalid;
    match lex.peek().ok_or(JsonError::Invalid)? {
        b'{' => sequence(lex, depth + 1, b'}', true),
        b'[' => sequence(lex, depth + 1, b']', false),
        b'"' => string(lex),
        b't' => lex.literal(b"true").map_err(invalid),
        b'f' => lex.literal(b"false").map_err(invalid),
        b'n' => lex.literal(b"null").map_err(invalid),
        b'-' | b'0'..=b'9' => {
            let start = lex.at;
            let plain = lex.number().map_err(invalid)?;
            let token = lex.bytes.get(start..lex.at).unwrap_or_default();
            if plain || finite_f64(token) {
                Ok(())
            } else {
                Err(JsonError::NumberOutOfRange)
            }
        }
        _ => Err(JsonError::Invalid),
    }
}

/// An object (`keyed`: members are `"key": value`) or an array, up to its `close` byte.
fn sequence(lex: &mut Lexer<'_>, depth: usize, close: u8, keyed: bool) -> Result<(), JsonError> {
    if depth > MAX_DEPTH {
        return Err(JsonError::Invalid);
    }
    let invalid = |_| JsonError::Invalid;
    lex.at += 1;
    lex.space();
    if lex.eat(close) {
        return Ok(());
    }
    loop {
        if keyed {
            lex.space();
            if lex.peek() != Some(b'"') {
                return Err(JsonError::Invalid);
            }
            string(lex)?;
            lex.space();
            lex.expect(b':', "':'").map_err(invalid)?;
        }
        value(lex, depth)?;
        lex.space();
        if lex.eat(close) {
            return Ok(());
        }
        lex.expect(b',', "','").map_err(invalid)?;
    }
}

/// A string token; the lexer is on its opening quote.
fn string(lex: &mut Lexer<'_>) -> Result<(), JsonError> {
    match lex.string(true) {
        Ok(token) if token.lone_surrogate => Err(JsonError::LoneSurrogate),
        Ok(_) => Ok(()),
        Err(_) => Err(JsonError::Invalid),
    }
}
