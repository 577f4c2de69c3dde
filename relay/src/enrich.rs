//! Enrichment before the log: receive time, clock-skew correction, future
//! events, IP policy, parsed user agent and the PII policy.

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use spoor_log::event::StoredEvent;
use time::OffsetDateTime;

use crate::config::{EnrichConfig, IpPolicy, PiiPolicy};
use crate::incoming::IncomingEvent;
use crate::raw_json::{Context, JsonString, Key, Object, RawJson};

/// What the relay knows about the request an event came in.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// When the request arrived.
    pub received_at: OffsetDateTime,
    /// `received_at` formatted once for all events of the request.
    pub received_at_text: &'a str,
    /// The peer's address (or the forwarded one when trusted).
    pub client_ip: Option<IpAddr>,
    /// Source name of the write key.
    pub source: &'a str,
}

/// Formats a time the way the relay stores it: `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
///
/// Written by hand: it runs twice per event and `format!` was a tenth of the
/// ingestion path's instructions.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (year, month, day) = t.to_calendar_date();
    let (hour, minute, second, ms) = t.to_hms_milli();
    let year = year.clamp(0, 9999) as u32;
    let ms = u32::from(ms);
    let mut out = *b"0000-00-00T00:00:00.000Z";
    for (at, value) in [
        (0, year / 100),
        (2, year % 100),
        (5, u32::from(u8::from(month))),
        (8, u32::from(day)),
        (11, u32::from(hour)),
        (14, u32::from(minute)),
        (17, u32::from(second)),
        (20, ms / 10),
    ] {
        out[at] = b'0' + (value / 10) as u8;
        out[at + 1] = b'0' + (value % 10) as u8;
    }
    out[22] = b'0' + (ms % 10) as u8;
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

/// User agents remembered per thread.
const UA_CACHE_ENTRIES: usize = 32;
/// Longer user agents are parsed every time rather than kept.
const UA_CACHE_MAX_LEN: usize = 512;

/// The last user agents one thread parsed, replaced round-robin: parsing is
/// the costliest part of enrichment, and a relay sees the same few browsers
/// over and over. Each holds the parsed form as JSON text, ready to be copied
/// into a record (`None`: the parser does not know it).
struct UaCache {
    entries: Vec<(String, Option<String>)>,
    next: usize,
}

thread_local! {
    static UA_CACHE: std::cell::RefCell<UaCache> = const {
        std::cell::RefCell::new(UaCache {
            entries: Vec::new(),
            next: 0,
        })
    };
}

/// [`parse_user_agent`] as JSON text, from this thread's cache when it has it.
pub fn parsed_user_agent(ua: &str) -> Option<String> {
    let parse = |ua: &str| parse_user_agent(ua).map(|v| v.to_string());
    if ua.len() > UA_CACHE_MAX_LEN {
        return parse(ua);
    }
    UA_CACHE.with(|cache| {
        let cache = &mut *cache.borrow_mut();
        if let Some((_, parsed)) = cache.entries.iter().find(|(known, _)| known == ua) {
            return parsed.clone();
        }
        let parsed = parse(ua);
        let entry = (ua.to_string(), parsed.clone());
        if cache.entries.len() < UA_CACHE_ENTRIES {
            cache.entries.push(entry);
        } else {
            cache.entries[cache.next] = entry;
            cache.next = (cache.next + 1) % UA_CACHE_ENTRIES;
        }
        parsed
    })
}

/// Builds the stored event: server fields, corrected time, context enrichment.
/// `flags` carries what validation found (deprecated schema, accepted-and-flagged).
pub fn enrich<'a>(
    event: IncomingEvent<'a>,
    info: &RequestInfo<'a>,
    config: &EnrichConfig,
    schema_version: Option<u32>,
    mut flags: Vec<String>,
) -> StoredEvent<Context<'a>, JsonString<'a>, Object<'a>> {
    let received = info.received_at;
    // Skew correction: the client's clock is off by (sentAt - receivedAt).
    let mut event_time = match (&event.timestamp, &event.sent_at) {
        // A correction past the calendar's range (a client clock at year 0, say) is no
        // correction: the event keeps its receive time and says so.
        (Some((_, ts)), Some((_, sent))) => ts.checked_add(received - *sent).unwrap_or_else(|| {
            flags.push("skew_out_of_range".into());
            received
        }),
        (Some((_, ts)), None) => *ts,
        (None, _) => received,
    };
    if event_time > received + time::Duration::seconds(config.future_tolerance_secs as i64) {
        flags.push("future_timestamp".into());
        event_time = received;
    }
    let mut context = event.context;
    apply_ip_policy(&mut context, info.client_ip, config.ip);
    if let Some(ua) = context.get("userAgent").and_then(RawJson::as_str)
        && let Some(parsed) = parsed_user_agent(&ua)
    {
        context.insert(Key::from("ua"), RawJson::owned(parsed));
    }
    let raw = |field: Option<RawJson<'a>>| field.map(JsonString::Raw);
    StoredEvent {
        event_id: JsonString::Raw(event.event_id),
        event_type: event.event_type,
        event_name: raw(event.event_name),
        user_id: raw(event.user_id),
        anonymous_id: raw(event.anonymous_id),
        previous_id: raw(event.previous_id),
        group_id: raw(event.group_id),
        timestamp: raw(event.timestamp.map(|(text, _)| text)),
        sent_at: raw(event.sent_at.map(|(text, _)| text)),
        received_at: JsonString::Text(Cow::Borrowed(info.received_at_text)),
        event_time: JsonString::Text(Cow::Owned(format_time(event_time))),
        source: JsonString::Text(Cow::Borrowed(info.source)),
        properties: event.properties,
        traits: event.traits,
        context,
        schema_version,
        flags,
    }
}

fn apply_ip_policy(context: &mut Context<'_>, peer: Option<IpAddr>, policy: IpPolicy) {
    let ip = context
        .get("ip")
        .and_then(RawJson::as_str)
        .and_then(|s| s.parse::<IpAddr>().ok())
        .or(peer);
    match (policy, ip) {
        (IpPolicy::Drop, _) | (_, None) => {
            context.remove("ip");
        }
        (IpPolicy::Keep, Some(ip)) => {
            context.insert(Key::from("ip"), ip_json(ip));
        }
        (IpPolicy::Truncate, Some(ip)) => {
            context.insert(Key::from("ip"), ip_json(truncate_ip(ip)));
        }
    }
}

/// `ip` as a JSON string. An IPv4 address is written by hand: `Display` goes
/// through the formatting machinery, ~1,100 instructions of the ~32,000 an
/// event cost.
fn ip_json(ip: IpAddr) -> RawJson<'static> {
    let IpAddr::V4(v4) = ip else {
        return RawJson::string(&ip.to_string());
    };
    let mut text = String::with_capacity(17);
    text.push('"');
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text.push('"');
    RawJson::owned(text)
}

/// Zeroes the host part: IPv4 to /24, IPv6 to /48.
pub fn truncate_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
        }
    }
}

/// Browser, OS and device class from a user-agent string (woothee's database).
pub fn parse_user_agent(ua: &str) -> Option<Value> {
    let parsed = woothee::parser::Parser::new().parse(ua)?;
    Some(json!({
        "browser": parsed.name,
        "browserVersion": parsed.version,
        "os": parsed.os,
        "osVersion": parsed.os_version,
        "device": parsed.category,
        "vendor": parsed.vendor,
    }))
}

/// Applies the source's PII policy to the properties a schema marks `x-pii`;
/// true when it changed them.
pub fn apply_pii_policy(
    properties: &mut Map<String, Value>,
    pii: &[String],
    policy: PiiPolicy,
) -> bool {
    let mut changed = false;
    for key in pii {
        match policy {
            PiiPolicy::Keep => {}
            PiiPolicy::Drop => {
                changed |= properties.remove(key).is_some();
            }
            PiiPolicy::Hash => {
                if let Some(value) = properties.get_mut(key) {
                    let text = match &*value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let hex: String = Sha256::digest(text.as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    *value = Value::String(hex);
                    changed = true;
                }
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::incoming::{ParseOptions, parse};
    use time::macros::datetime;

    fn event(raw: &str) -> IncomingEvent<'_> {
        let options = ParseOptions {
            route_type: None,
            batch_sent_at: None,
            generate_missing_id: false,
        };
        parse(raw, &Limits::default(), options).unwrap()
    }

    fn info() -> RequestInfo<'static> {
        RequestInfo {
            received_at: datetime!(2026-05-03 10:00:05 UTC),
            received_at_text: "2026-05-03T10:00:05.000Z",
            client_ip: Some("9.8.7.6".parse().unwrap()),
            source: "web",
        }
    }

    /// Enriches `e` with the default configuration and [`info`].
    fn enrich_default(
        e: IncomingEvent<'_>,
    ) -> StoredEvent<Context<'_>, JsonString<'_>, Object<'_>> {
        enrich(e, &info(), &EnrichConfig::default(), None, Vec::new())
    }

    #[test]
    fn skew_is_corrected_and_original_kept() {
        let e = event(
            r#"{"eventId":"1","eventName":"a","userId":"u","timestamp":"2026-05-03T10:00:00Z","sentAt":"2026-05-03T10:00:02Z","context":{"ip":"1.2.3.4"}}"#,
        );
        let stored = enrich_default(e);
        assert_eq!(
            stored.event_time,
            JsonString::Text("2026-05-03T10:00:03.000Z".into())
        );
        assert_eq!(
            stored.timestamp,
            Some(JsonString::Raw(RawJson::string("2026-05-03T10:00:00Z")))
        );
        assert_eq!(
            stored.received_at,
            JsonString::Text("2026-05-03T10:00:05.000Z".into())
        );
        assert_eq!(stored.context.get("ip").unwrap().get(), r#""1.2.3.0""#);
        assert!(stored.flags.is_empty());
    }

    #[test]
    fn a_correction_past_the_calendar_keeps_the_receive_time() {
        let e = event(
            r#"{"eventId":"1","eventName":"a","userId":"u","timestamp":"9999-12-31T23:59:59Z","sentAt":"0000-01-01T00:00:00Z"}"#,
        );
        let stored = enrich_default(e);
        assert_eq!(stored.event_time, stored.received_at);
        assert_eq!(stored.flags, vec!["skew_out_of_range".to_string()]);
    }

    #[test]
    fn future_events_are_flagged() {
        let e = event(
            r#"{"eventId":"1","eventName":"a","userId":"u","timestamp":"2026-05-04T10:00:00Z"}"#,
        );
        let stored = enrich_default(e);
        assert_eq!(stored.flags, vec!["future_timestamp".to_string()]);
        assert_eq!(stored.event_time, stored.received_at);
        assert_eq!(
            stored.timestamp,
            Some(JsonString::Raw(RawJson::string("2026-05-04T10:00:00Z")))
        );
    }

    #[test]
    fn times_format_like_the_log_stores_them() {
        assert_eq!(
            format_time(datetime!(2026-01-02 03:04:05.006 UTC)),
            "2026-01-02T03:04:05.006Z"
        );
        assert_eq!(
            format_time(datetime!(2026-12-31 23:59:59.999 +02:00)),
            "2026-12-31T21:59:59.999Z"
        );
    }

    #[test]
    fn ip_policies() {
        let v6: IpAddr = "2001:db8:1234:5678::1".parse().unwrap();
        assert_eq!(truncate_ip(v6).to_string(), "2001:db8:1234::");
        let mut ctx = Context::new();
        apply_ip_policy(&mut ctx, Some("9.8.7.6".parse().unwrap()), IpPolicy::Drop);
        assert!(ctx.get("ip").is_none());
        apply_ip_policy(&mut ctx, Some("9.8.7.6".parse().unwrap()), IpPolicy::Keep);
        assert_eq!(ctx.get("ip").unwrap().get(), r#""9.8.7.6""#);
        for ip in ["0.0.0.0", "10.200.9.255", "100.10.1.99", "255.255.255.255"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_json(ip).get(), format!("\"{ip}\""));
        }
        ctx.insert("ip".into(), RawJson::string("2001:db8:1234:5678::1"));
        apply_ip_policy(&mut ctx, None, IpPolicy::Truncate);
        assert_eq!(ctx.get("ip").unwrap().get(), r#""2001:db8:1234::""#);
    }

    #[test]
    fn user_agent_is_parsed() {
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let parsed = parse_user_agent(ua).unwrap();
        assert_eq!(parsed["browser"], "Chrome");
        assert_eq!(parsed["device"], "pc");
    }

    #[test]
    fn user_agents_are_cached_per_thread_with_the_same_answer() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
        let text = parsed_user_agent;
        let expected = |ua: &str| parse_user_agent(ua).map(|v| v.to_string());
        // More distinct agents than the cache holds, twice over: every answer
        // (first parse, cached, evicted and parsed again) is the parser's.
        for _ in 0..2 {
            for i in 0..(2 * UA_CACHE_ENTRIES) {
                let ua = format!("{firefox} x{i}");
                assert_eq!(text(&ua), expected(&ua));
                assert_eq!(text(chrome), expected(chrome));
                assert_eq!(text("curl/8.0"), expected("curl/8.0"));
            }
        }
        assert_eq!(text("not a browser at all"), None);
    }

    #[test]
    fn pii_hash_and_drop() {
        let mut props = Map::new();
        props.insert("email".into(), json!("a@b.c"));
        apply_pii_policy(&mut props, &["email".into()], PiiPolicy::Hash);
        assert_eq!(props["email"].as_str().unwrap().len(), 64);
        apply_pii_policy(&mut props, &["email".into()], PiiPolicy::Drop);
        assert!(props.is_empty());
    }
}
