//! Load generators and benchmarks for Spoor (spoor bench).
