//! The server's clock. Domain time (session expiry, deletion and rotation windows, retention,
//! audit event times) is the wall clock plus an offset that only `--dev` can move, through
//! `POST /_rampart/clock`, so test suites can cross an expiry without waiting. SigV4's clock-skew
//! check always uses the real wall clock: clients sign with theirs.
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// Domain time.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// The real wall clock, for checks against clients' clocks.
    pub fn wall(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Moves domain time forward (or back) by `seconds`; returns the new offset.
    pub fn advance(&self, seconds: i64) -> i64 {
        self.offset_seconds
            .fetch_add(seconds, Ordering::SeqCst)
            .saturating_add(seconds)
    }

    pub fn set_offset(&self, seconds: i64) {
        self.offset_seconds.store(seconds, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_moves_domain_time_only() {
        let c = Clock::default();
        assert_eq!(c.advance(3600), 3600);
        let diff = (c.now() - c.wall()).whole_seconds();
        assert!((3599..=3601).contains(&diff), "{diff}");
        c.set_offset(0);
        assert!((c.now() - c.wall()).whole_seconds().abs() <= 1);
    }
}
