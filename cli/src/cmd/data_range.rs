//! The options `spoor query` and `spoor export` share: where the pipeline's
//! data is and which time range to read.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use spoor_analytics::{DataDir, ParamError};

/// The data directory and the time range.
#[derive(Args)]
pub struct DataRange {
    /// Data directory written by the pipeline.
    #[arg(long, env = "SPOOR_DATA_DIR", default_value = "./spoor-data")]
    data_dir: PathBuf,
    /// Start of the range (RFC 3339 or YYYY-MM-DD; default 30 days before --to).
    #[arg(long)]
    from: Option<String>,
    /// End of the range, excluded (default now).
    #[arg(long)]
    to: Option<String>,
}

impl DataRange {
    /// The data directory.
    pub fn data(&self) -> DataDir {
        DataDir::new(&self.data_dir)
    }

    /// The API's query parameters: the given options, then `from` and `to`.
    pub fn params<const N: usize>(
        &self,
        options: [(&str, Option<String>); N],
    ) -> HashMap<String, String> {
        options
            .into_iter()
            .chain([("from", self.from.clone()), ("to", self.to.clone())])
            .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
            .collect()
    }
}

/// Names the command-line flag of a bad parameter.
pub fn flag_error(error: ParamError) -> anyhow::Error {
    anyhow::anyhow!("--{}: {}", error.param.replace('_', "-"), error.message)
}
