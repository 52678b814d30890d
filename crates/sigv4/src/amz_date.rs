//! The two timestamp spellings SigV4 uses: `X-Amz-Date` in ISO-8601 basic format
//! (`20150830T123600Z`) and the credential-scope date (`20150830`).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

pub(crate) use crate::error::AmzDate;

/// Parses `YYYYMMDDTHHMMSSZ`. Anything else (extended format, offsets, fractions) is refused,
/// as AWS does: "Date must be in ISO-8601 'basic format'".
pub fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let part = s.get(from..to)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4, 6)?).ok()?).ok()?;
    let day = u8::try_from(num(6, 8)?).ok()?;
    let hour = u8::try_from(num(9, 11)?).ok()?;
    let minute = u8::try_from(num(11, 13)?).ok()?;
    let second = u8::try_from(num(13, 15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Parses an HTTP `Date` header: either the basic ISO-8601 form or RFC 7231 IMF-fixdate
/// (`Sun, 30 Aug 2015 12:36:00 GMT`). AWS accepts `Date` when `X-Amz-Date` is absent.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = parse_amz_date(s) {
        return Some(t);
    }
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822)
        .ok()
        .map(|t| t.to_offset(UtcOffset::UTC))
}

/// `YYYYMMDDTHHMMSSZ` for a timestamp (converted to UTC).
pub fn format_amz_date(t: OffsetDateTime) -> String {
    AmzDate(t).to_string()
}

/// `YYYYMMDD`, the credential-scope date.
pub fn format_scope_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_basic_format() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(format_scope_date(t), "20150830");
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "",
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20151330T123600Z",
            "20150830T246000Z",
            "2015083xT123600Z",
            "+0150830T123600Z",
            "20150830T12360ZZ",
            "20150830\u{e9}123600",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn http_date_accepts_imf_fixdate() {
        let t = parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(format_amz_date(t), "20150830T123600Z");
    }
}
