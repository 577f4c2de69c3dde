//! The spoor command line: spoor up, relay, pipeline, log cat, bench, demo, query, export.

fn main() {}
