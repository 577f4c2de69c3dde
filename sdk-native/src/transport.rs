//! Sends one batch with reqwest and turns the result into a [`SendOutcome`].

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use spoor_core::{SendOutcome, parse_retry_after};

use crate::clock::now;

/// The HTTP side of the host: a reqwest client (rustls) and where to post.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    url: String,
    write_key: String,
}

impl Transport {
    pub fn new(http: reqwest::Client, url: String, write_key: String) -> Self {
        Transport {
            http,
            url,
            write_key,
        }
    }

    /// POSTs `body`; any failure without an HTTP status is a network error.
    pub async fn send(&self, body: String) -> SendOutcome {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.write_key)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now()));
                // Read the body so the connection can be reused; its content is not needed.
                let _ = response.bytes().await;
                SendOutcome::Response {
                    status,
                    retry_after,
                }
            }
            Err(_) => SendOutcome::NetworkError,
        }
    }
}
