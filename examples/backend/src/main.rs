//! An example backend service that tracks events with the spoor crate.

fn main() {}
