//! Request bodies: content type, gzip, and the size cap on what comes out.

use std::borrow::Cow;
use std::io::Read;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

use crate::error::ApiError;

/// Checks the content type: JSON, or `text/plain` holding JSON (what
/// `sendBeacon` sends without a preflight). A missing type is taken as JSON.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let mime = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || mime == "text/plain" || mime.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(format!(
            "content type {mime:?} is not accepted; send application/json or text/plain"
        )))
    }
}

/// Reads a whole request body as sent: at most `limit` bytes, each part
/// arriving within `idle` of the one before (as nginx's `client_body_timeout`),
/// so a client that stalls mid-body cannot hold its connection and buffer for
/// ever. A body that arrives in one part is not copied, and a part that is
/// already there arms no timer. (tower-http's `TimeoutBody` under
/// http-body-util's `Limited` and `collect` does the same in 2,100 more
/// instructions per single event: `bench/relay-instructions.sh`.)
pub async fn read(mut body: Body, limit: usize, idle: Duration) -> Result<Bytes, ApiError> {
    let mut whole = Bytes::new();
    // Only once a second part arrives.
    let mut joined: Option<Vec<u8>> = None;
    while let Some(frame) = tokio::time::timeout(idle, body.frame())
        .await
        .map_err(|_| {
            ApiError::request_timeout(format!(
                "the request body stalled: nothing of it arrived for {} ms",
                idle.as_millis()
            ))
        })?
    {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(
                "unreadable_body",
                format!("the request body broke off: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let len = joined.as_ref().map_or(whole.len(), Vec::len) + data.len();
        if len > limit {
            return Err(ApiError::too_large(format!(
                "the request body is over {limit} bytes"
            )));
        }
        match &mut joined {
            Some(all) => all.extend_from_slice(&data),
            None if whole.is_empty() => whole = data,
            None => joined = Some([whole.as_ref(), data.as_ref()].concat()),
        }
    }
    Ok(joined.map_or(whole, Bytes::from))
}

/// The body as JSON bytes: gunzipped when `Content-Encoding: gzip`, and at most
/// `limit` bytes after decompression. A gzip bomb is stopped as soon as its
/// output passes the limit, without inflating the rest. A body sent as is is
/// borrowed, not copied.
pub fn decode<'a>(
    headers: &HeaderMap,
    raw: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, ApiError> {
    let encoding = content_encoding(headers);
    let is = |name: &str| encoding.eq_ignore_ascii_case(name);
    if is_identity(encoding) {
        if raw.len() > limit {
            return Err(too_large(limit));
        }
        Ok(Cow::Borrowed(raw))
    } else if is("gzip") || is("x-gzip") {
        let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(limit));
        let mut decoder = flate2::read::GzDecoder::new(raw).take(limit as u64 + 1);
        decoder.read_to_end(&mut out).map_err(|e| {
            ApiError::bad_request("invalid_gzip", format!("gzip body cannot be decoded: {e}"))
        })?;
        if out.len() > limit {
            return Err(too_large(limit));
        }
        Ok(Cow::Owned(out))
    } else {
        Err(ApiError::unsupported_media_type(format!(
            "content encoding {encoding:?} is not accepted; send gzip or none"
        )))
    }
}

/// Whether the body comes with a content encoding (gzip) to undo.
pub fn is_encoded(headers: &HeaderMap) -> bool {
    !is_identity(content_encoding(headers))
}

fn is_identity(encoding: &str) -> bool {
    encoding.is_empty() || encoding.eq_ignore_ascii_case("identity")
}

fn content_encoding(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
}

fn too_large(limit: usize) -> ApiError {
    ApiError::too_large(format!(
        "the request body is over {limit} bytes (after decompression)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gzip_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        h
    }

    #[test]
    fn gzip_round_trip() {
        let body = br#"{"batch":[]}"#;
        assert_eq!(
            decode(&gzip_headers(), &gzip(body), 1000).unwrap().as_ref(),
            body
        );
    }

    #[test]
    fn gzip_bomb_is_refused() {
        let bomb = gzip(&vec![b' '; 50 << 20]);
        assert!(bomb.len() < 100 << 10);
        let err = decode(&gzip_headers(), &bomb, 500 * 1024).unwrap_err();
        assert_eq!(err.code, "payload_too_large");
    }

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(check_content_type(&h).is_ok());
        h.insert(
            header::CONTENT_TYPE,
            "text/plain;charset=UTF-8".parse().unwrap(),
        );
        assert!(check_content_type(&h).is_ok());
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert_eq!(
            check_content_type(&h).unwrap_err().code,
            "unsupported_media_type"
        );
    }
}
