//! `spoor delete-user ID`: asks the running relay to erase a user
//! (`DELETE /api/users/{id}`; see `spoor_relay::erasure`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// Arguments of `spoor delete-user`.
#[derive(Args)]
pub struct DeleteUserArgs {
    /// The user id to erase (with the anonymous ids the log links to it).
    user_id: String,
    /// The relay to ask.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    endpoint: String,
    /// The read key (default: the one `spoor up` generated in the data directory).
    #[arg(long, env = "SPOOR_READ_KEY")]
    read_key: Option<String>,
    /// Data directory holding the generated keys.
    #[arg(long, default_value = "./spoor-data", env = "SPOOR_DATA_DIR")]
    data_dir: PathBuf,
}

/// Runs `spoor delete-user`.
pub fn run(args: DeleteUserArgs) -> anyhow::Result<()> {
    let read_key = match args.read_key {
        Some(key) => key,
        None => spoor_relay::keys::stored_keys(&args.data_dir)
            .context("reading the generated keys")?
            .map(|k| k.read_key)
            .with_context(|| {
                format!(
                    "no --read-key and no generated keys in {}",
                    args.data_dir.display()
                )
            })?,
    };
    let mut url = reqwest::Url::parse(args.endpoint.trim_end_matches('/'))
        .with_context(|| format!("the endpoint {} is not a URL", args.endpoint))?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("the endpoint {} cannot take a path", args.endpoint))?
        .extend(["api", "users", args.user_id.as_str()]);
    let response = reqwest::blocking::Client::new()
        .delete(url.clone())
        .bearer_auth(read_key)
        .send()
        .with_context(|| format!("asking {url}"))?;
    let status = response.status();
    let body = response.text().context("reading the answer")?;
    if !status.is_success() {
        anyhow::bail!("the relay answered {status}: {body}");
    }
    println!("{body}");
    Ok(())
}
