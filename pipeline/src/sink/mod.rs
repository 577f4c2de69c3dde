//! Outputs: Parquet files (raw partitions and tables).

pub mod parquet_file;
pub mod raw;
