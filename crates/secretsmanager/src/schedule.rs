//! Rotation schedules as Secrets Manager accepts them: `AutomaticallyAfterDays`, `rate(N hours)`
//! / `rate(N days)` (at least every four hours, windows starting at midnight UTC) and 6-field
//! `cron(minutes hours day-of-month month day-of-week year)` expressions, with an optional
//! `Duration` window (`3h`). Rampart rotates at the start of each window.
use rampart_aws_types::AwsError;
use time::{Duration, OffsetDateTime, Time};

use crate::error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Days(i64),
    Hours(i64),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days_of_month: Option<Vec<u32>>,
    months: Vec<u32>,
    days_of_week: Option<Vec<u32>>,
    years: Option<Vec<u32>>,
}

fn bad(msg: impl Into<String>) -> AwsError {
    error::invalid_parameter(msg)
}

/// Parses `RotationRules` (already shape-checked by the model).
pub fn parse_rules(rules: &serde_json::Value) -> Result<Schedule, AwsError> {
    let days = rules
        .get("AutomaticallyAfterDays")
        .and_then(serde_json::Value::as_i64);
    let expr = rules
        .get("ScheduleExpression")
        .and_then(serde_json::Value::as_str);
    let schedule = match (days, expr) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "You can't specify both AutomaticallyAfterDays and ScheduleExpression.",
            ));
        }
        (Some(d), None) => {
            if !(1..=1000).contains(&d) {
                return Err(bad("AutomaticallyAfterDays must be between 1 and 1000."));
            }
            Schedule::Days(d)
        }
        (None, Some(e)) => parse_expression(e)?,
        (None, None) => {
            return Err(bad(
                "RotationRules must specify AutomaticallyAfterDays or ScheduleExpression.",
            ));
        }
    };
    if let Some(d) = rules.get("Duration").and_then(serde_json::Value::as_str) {
        let hours: i64 = d
            .strip_suffix('h')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad(format!("Invalid Duration: {d}. Use a value such as 3h.")))?;
        if !(1..=24).contains(&hours) {
            return Err(bad(
                "The rotation window Duration must be between 1h and 24h.",
            ));
        }
        if let Schedule::Hours(h) = schedule
            && hours > h
        {
            return Err(bad(
                "The rotation window can't extend into the next rotation window.",
            ));
        }
    }
    Ok(schedule)
}

pub fn parse_expression(e: &str) -> Result<Schedule, AwsError> {
    let e = e.trim();
    if let Some(inner) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = inner.split_whitespace();
        let n: i64 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad(format!("Invalid rate expression: {e}")))?;
        let unit = parts.next().unwrap_or_default();
        return match unit {
            "hour" | "hours" if (4..=24 * 1000).contains(&n) => Ok(Schedule::Hours(n)),
            "hour" | "hours" => Err(bad(
                "The schedule expression must rotate no more often than every 4 hours.",
            )),
            "day" | "days" if (1..=1000).contains(&n) => Ok(Schedule::Days(n)),
            _ => Err(bad(format!("Invalid rate expression: {e}"))),
        };
    }
    if let Some(inner) = e.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return Ok(Schedule::Cron(Box::new(parse_cron(inner)?)));
    }
    Err(bad(format!(
        "Invalid ScheduleExpression: {e}. Use a rate() or cron() expression."
    )))
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(token: &str, names: &[&str], base: u32) -> Option<u32> {
    token.parse().ok().or_else(|| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(token))
            .and_then(|i| u32::try_from(i).ok())
            .map(|i| i + base)
    })
}

/// One field: `*`, `?`, `a`, `a-b`, `a,b`, `*/n`, `a/n`, `a-b/n`. `None` for `?`.
fn field(
    text: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    base: u32,
) -> Result<Option<Vec<u32>>, AwsError> {
    if text == "?" {
        return Ok(None);
    }
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)),
            None => (part, Some(1)),
        };
        let step = step.ok_or_else(|| bad(format!("Invalid cron field: {text}")))?;
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, names, base).ok_or_else(|| bad(format!("Invalid cron field: {text}")))?,
                value(b, names, base).ok_or_else(|| bad(format!("Invalid cron field: {text}")))?,
            )
        } else {
            let v = value(range, names, base)
                .ok_or_else(|| bad(format!("Invalid cron field: {text}")))?;
            (v, if part.contains('/') { hi } else { v })
        };
        if a < lo || b > hi || a > b {
            return Err(bad(format!("Invalid cron field: {text}")));
        }
        let mut v = a;
        while v <= b {
            out.push(v);
            v += step;
        }
    }
    Ok(Some(out))
}

fn parse_cron(inner: &str) -> Result<Cron, AwsError> {
    let f: Vec<&str> = inner.split_whitespace().collect();
    let [mi, h, dom, mo, dow, y] = f.as_slice() else {
        return Err(bad(
            "A cron expression has six fields: minutes hours day-of-month month day-of-week year.",
        ));
    };
    let days_of_month = field(dom, 1, 31, &[], 1)?;
    let days_of_week = field(dow, 1, 7, &DAYS, 1)?;
    if days_of_month.is_some() == days_of_week.is_some() {
        return Err(bad(
            "In a cron expression, exactly one of day-of-month and day-of-week must be '?'.",
        ));
    }
    Ok(Cron {
        minutes: field(mi, 0, 59, &[], 0)?.unwrap_or_default(),
        hours: field(h, 0, 23, &[], 0)?.unwrap_or_default(),
        days_of_month,
        months: field(mo, 1, 12, &MONTHS, 1)?.unwrap_or_default(),
        days_of_week,
        years: field(y, 1970, 2199, &[], 0)?,
    })
}

impl Cron {
    /// The day-level fields only, so the search skips whole days at once.
    fn day_matches(&self, t: OffsetDateTime) -> bool {
        let dow = u32::from(t.weekday().number_from_sunday());
        self.months.contains(&u32::from(u8::from(t.month())))
            && self
                .days_of_month
                .as_ref()
                .is_none_or(|d| d.contains(&u32::from(t.day())))
            && self.days_of_week.as_ref().is_none_or(|d| d.contains(&dow))
            && self
                .years
                .as_ref()
                .is_none_or(|y| u32::try_from(t.year()).is_ok_and(|yy| y.contains(&yy)))
    }

    fn matches(&self, t: OffsetDateTime) -> bool {
        let dow = u32::from(t.weekday().number_from_sunday());
        self.minutes.contains(&u32::from(t.minute()))
            && self.hours.contains(&u32::from(t.hour()))
            && self.months.contains(&u32::from(u8::from(t.month())))
            && self
                .days_of_month
                .as_ref()
                .is_none_or(|d| d.contains(&u32::from(t.day())))
            && self.days_of_week.as_ref().is_none_or(|d| d.contains(&dow))
            && self
                .years
                .as_ref()
                .is_none_or(|y| u32::try_from(t.year()).is_ok_and(|yy| y.contains(&yy)))
    }
}

fn midnight(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_time(Time::MIDNIGHT)
}

/// The start of the next rotation window strictly after `after` (`None` if a cron expression
/// never matches again within five years).
pub fn next_after(schedule: &Schedule, after: OffsetDateTime) -> Option<OffsetDateTime> {
    match schedule {
        Schedule::Days(d) => Some(midnight(after) + Duration::days(*d)),
        Schedule::Hours(h) => {
            let hour = after.replace_time(Time::from_hms(after.hour(), 0, 0).ok()?);
            Some(hour + Duration::hours(*h))
        }
        Schedule::Cron(c) => {
            // Minute by minute over matching days only: cheap enough for a five-year horizon.
            let mut day = midnight(after);
            let end = after + Duration::days(5 * 366);
            while day < end {
                if c.day_matches(day) {
                    for h in &c.hours {
                        for m in &c.minutes {
                            let t = day.replace_time(
                                Time::from_hms(u8::try_from(*h).ok()?, u8::try_from(*m).ok()?, 0)
                                    .ok()?,
                            );
                            if t > after && c.matches(t) {
                                return Some(t);
                            }
                        }
                    }
                }
                day += Duration::days(1);
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn rules_parse() {
        assert_eq!(
            parse_rules(&json!({"AutomaticallyAfterDays": 30})).unwrap(),
            Schedule::Days(30)
        );
        assert_eq!(
            parse_rules(&json!({"ScheduleExpression": "rate(10 days)"})).unwrap(),
            Schedule::Days(10)
        );
        assert_eq!(
            parse_rules(&json!({"ScheduleExpression": "rate(4 hours)"})).unwrap(),
            Schedule::Hours(4)
        );
        assert!(parse_rules(&json!({"ScheduleExpression": "rate(3 hours)"})).is_err());
        assert!(
            parse_rules(
                &json!({"AutomaticallyAfterDays": 3, "ScheduleExpression": "rate(4 hours)"})
            )
            .is_err()
        );
        assert!(
            parse_rules(&json!({"ScheduleExpression": "rate(4 hours)", "Duration": "5h"})).is_err()
        );
        assert!(
            parse_rules(&json!({"ScheduleExpression": "rate(1 days)", "Duration": "3h"})).is_ok()
        );
        assert!(
            parse_rules(&json!({"ScheduleExpression": "rate(1 days)", "Duration": "3 hours"}))
                .is_err()
        );
        assert!(parse_rules(&json!({"ScheduleExpression": "cron(0 16 1,15 * ? *)"})).is_ok());
        assert!(parse_rules(&json!({"ScheduleExpression": "cron(0 16 * * * *)"})).is_err());
        assert!(parse_rules(&json!({"ScheduleExpression": "cron(0 16 * *)"})).is_err());
        assert!(parse_rules(&json!({"ScheduleExpression": "every day"})).is_err());
    }

    #[test]
    fn next_windows() {
        let t = datetime!(2026-11-29 17:30 UTC);
        assert_eq!(
            next_after(&Schedule::Days(1), t),
            Some(datetime!(2026-11-30 00:00 UTC))
        );
        assert_eq!(
            next_after(&Schedule::Hours(6), t),
            Some(datetime!(2026-11-29 23:00 UTC))
        );
        let c = parse_expression("cron(0 16 1,15 * ? *)").unwrap();
        assert_eq!(next_after(&c, t), Some(datetime!(2026-12-01 16:00 UTC)));
        let c = parse_expression("cron(30 8 ? * MON-FRI *)").unwrap();
        // 2026-11-29 is a Sunday.
        assert_eq!(next_after(&c, t), Some(datetime!(2026-11-30 08:30 UTC)));
        let c = parse_expression("cron(0 0 1 1 ? 2020)").unwrap();
        assert_eq!(next_after(&c, t), None);
    }
}
