//! Pacing: never send faster than the provider allows (SES sends per second, SMS parts per
//! second, Connect calls per second). A token bucket, pure: the caller sleeps for the wait.

use std::time::Duration;

/// A token bucket: `rate` sends per second on average, bursts of at most `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    /// Seconds on the caller's monotonic clock at the last update.
    last: f64,
}

impl TokenBucket {
    /// A bucket that starts full. `rate` must be positive.
    pub fn new(rate: f64, burst: f64) -> Self {
        let rate = rate.max(1e-6);
        let burst = burst.max(1.0);
        TokenBucket { rate, burst, tokens: burst, last: 0.0 }
    }

    /// Takes `cost` tokens at time `now` (seconds), and says how long to wait before sending.
    /// Tokens may go negative: the wait pays the debt, so callers simply sleep and send.
    pub fn take(&mut self, now: f64, cost: f64) -> Duration {
        let elapsed = (now - self.last).max(0.0);
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst) - cost;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_sends_are_spaced_at_the_rate() {
        let mut b = TokenBucket::new(2.0, 2.0);
        assert_eq!(b.take(0.0, 1.0), Duration::ZERO);
        assert_eq!(b.take(0.0, 1.0), Duration::ZERO);
        assert_eq!(b.take(0.0, 1.0), Duration::from_millis(500));
        assert_eq!(b.take(0.0, 1.0), Duration::from_millis(1000));
    }

    #[test]
    fn a_million_sends_at_fourteen_per_second_take_their_time_and_none_is_dropped() {
        // Simulate a sender that sleeps as told: the last send of N happens after ~N/rate seconds.
        let (rate, n) = (14.0, 1_000_000u32);
        let mut b = TokenBucket::new(rate, 1.0);
        let mut clock = 0.0;
        for _ in 0..n {
            clock += b.take(clock, 1.0).as_secs_f64();
        }
        let expected = (n as f64 - 1.0) / rate;
        assert!((clock - expected).abs() < 1.0, "{clock} vs {expected}");
    }

    #[test]
    fn a_multi_part_sms_costs_its_parts() {
        let mut b = TokenBucket::new(10.0, 1.0);
        b.take(0.0, 1.0);
        assert_eq!(b.take(0.0, 3.0), Duration::from_millis(300));
    }
}
