//! Timestamps: canonical values are epoch seconds (JSON numbers, maybe fractional); the wire uses
//! ISO 8601 (awsQuery) or epoch seconds (awsJson).
use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses an ISO 8601 / RFC 3339 timestamp (`2026-01-02T03:04:05Z`, `...05.123Z`, `+01:00`) or a
/// decimal epoch-seconds string into epoch seconds.
pub(crate) fn parse_to_epoch(text: &str) -> Option<Value> {
    if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(epoch_value(dt));
    }
    // AWS also accepts a date-time without an offset (`2026-01-02T03:04:05`) as UTC.
    if text.len() >= 19 && !text.ends_with(['Z', 'z']) {
        if let Ok(dt) = OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339) {
            return Some(epoch_value(dt));
        }
    }
    let looks_numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if looks_numeric {
        let secs: f64 = text.parse().ok()?;
        return secs.is_finite().then(|| number(secs));
    }
    None
}

fn epoch_value(dt: OffsetDateTime) -> Value {
    let secs = dt.unix_timestamp();
    let nanos = dt.nanosecond();
    if nanos == 0 {
        Value::Number(secs.into())
    } else {
        number(secs as f64 + f64::from(nanos) / 1e9)
    }
}

/// Epoch seconds as a JSON number: an integer when whole, else a float.
pub(crate) fn number(secs: f64) -> Value {
    if secs.fract() == 0.0 && secs.abs() < 9.0e15 {
        Value::Number((secs as i64).into())
    } else {
        Number::from_f64(secs).map_or(Value::Null, Value::Number)
    }
}

/// Canonical epoch seconds -> `2026-01-02T03:04:05Z` (milliseconds added when not whole), the
/// form AWS's query services write. `None` if out of range.
pub(crate) fn format_iso8601(epoch: f64) -> Option<String> {
    if !epoch.is_finite() {
        return None;
    }
    let whole = epoch.floor();
    let millis = ((epoch - whole) * 1000.0).round() as i64;
    let (whole, millis) = if millis >= 1000 {
        (whole + 1.0, 0)
    } else {
        (whole, millis)
    };
    let dt = OffsetDateTime::from_unix_timestamp(whole as i64).ok()?;
    let (y, mo, d) = (dt.year(), u8::from(dt.month()), dt.day());
    let (h, mi, s) = (dt.hour(), dt.minute(), dt.second());
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(if millis == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{millis:03}Z")
    })
}

/// Reads a canonical timestamp (epoch number, or a string handlers may pass through) as seconds.
pub(crate) fn as_epoch(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_to_epoch(s).and_then(|v| v.as_f64()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_forms() {
        assert_eq!(
            parse_to_epoch("2026-01-02T03:04:05Z"),
            Some(Value::from(1767323045))
        );
        assert_eq!(
            parse_to_epoch("2026-01-02T03:04:05.500Z"),
            Some(Value::from(1767323045.5))
        );
        assert_eq!(
            parse_to_epoch("2026-01-02T04:04:05+01:00"),
            Some(Value::from(1767323045))
        );
        assert_eq!(
            parse_to_epoch("2026-01-02T03:04:05"),
            Some(Value::from(1767323045))
        );
        assert_eq!(parse_to_epoch("1767323045"), Some(Value::from(1767323045)));
        assert_eq!(parse_to_epoch("yesterday"), None);
        assert_eq!(parse_to_epoch("2026-13-02T03:04:05Z"), None);
    }

    #[test]
    fn formats_iso() {
        assert_eq!(
            format_iso8601(1767323045.0).unwrap(),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            format_iso8601(1767323045.25).unwrap(),
            "2026-01-02T03:04:05.250Z"
        );
        assert_eq!(format_iso8601(f64::NAN), None);
        assert_eq!(format_iso8601(1e300), None);
    }
}
