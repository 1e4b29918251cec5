//! What of a replica's log is on disk, the part a power loss keeps.
//!
//! Kafka writes to the page cache and never fsyncs per write by default
//! (`log.flush.interval.messages` and `log.flush.interval.ms` are
//! Long.MAX_VALUE in `ServerLogConfigs`): acks=all means "in the page cache
//! of every ISR member". The OS writes dirty pages back on its own: Linux's
//! flusher threads wake every `vm.dirty_writeback_centisecs` (5 s) and write
//! pages dirty for longer than `vm.dirty_expire_centisecs` (30 s). After a
//! power loss `LogLoader.recoverLog` keeps the prefix that reached the disk.
//!
//! Computed when the power goes, from each entry's page-cache time: no event
//! per write and no timer per broker.

use crate::kernel::time::{Duration, Instant};
use crate::model::broker::log::Replica;
use crate::scenario::PageCacheConfig;

/// The last moment at or before `now` that a periodic job with this period
/// ran (it runs at every multiple of `period`); `None` if it never ran.
fn last_tick(now: Instant, period: Duration) -> Option<Instant> {
    if period.us() == 0 {
        return None;
    }
    let t = now.us() / period.us() * period.us();
    (t > 0).then_some(Instant::ZERO.add(Duration::from_us(t)))
}

/// How many leading entries were appended at or before `cutoff`.
fn written_by(rep: &Replica, cutoff: Instant) -> u64 {
    rep.log.appended_by(cutoff)
}

/// The offset below which `rep`'s log is on disk at `now`: what the last
/// explicit fsync, the last `log.flush.interval.ms` flush or the kernel's
/// last writeback covered, whichever reaches furthest.
pub fn durable_end(rep: &Replica, now: Instant, c: &PageCacheConfig) -> u64 {
    let mut end = rep.fsynced;
    // The kernel's flusher at tick `t` writes pages dirtied by `t - expire`.
    if let Some(t) = last_tick(now, c.dirty_writeback) {
        if t.us() >= c.dirty_expire.us() {
            let cutoff = Instant::ZERO.add(Duration::from_us(t.us() - c.dirty_expire.us()));
            end = end.max(written_by(rep, cutoff));
        }
    }
    // Kafka's time-based flush fsyncs the whole log at each interval.
    if let Some(t) = c.flush_interval.and_then(|p| last_tick(now, p)) {
        end = end.max(written_by(rep, t));
    }
    end.min(rep.leo())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::broker::log::{LogEntry, NO_HEADER};
    use crate::model::ids::{BrokerId, LeaderEpoch};
    use crate::model::producer::NO_SEQ;

    const E: LogEntry =
        LogEntry { record: 0, epoch: LeaderEpoch::new(0), header: NO_HEADER, seq: NO_SEQ, batch_start: true };

    /// One entry per second from 1 s to `n` s.
    fn replica(n: u64, flush_every: u64) -> Replica {
        let mut r = Replica::new(BrokerId::new(0));
        for s in 1..=n {
            r.append(E, Instant::ZERO.add(Duration::from_secs(s)), flush_every);
        }
        r
    }

    fn at(s: u64) -> Instant {
        Instant::ZERO.add(Duration::from_secs(s))
    }

    /// Linux defaults: the writeback at 40 s writes what was dirty by 10 s;
    /// the 10 s-old tail lives only in memory. Kafka adds no fsync.
    #[test]
    fn with_kafka_defaults_only_pages_older_than_dirty_expire_reach_the_disk() {
        let r = replica(60, u64::MAX);
        let c = PageCacheConfig::default();
        assert_eq!(durable_end(&r, at(20), &c), 0, "nothing is 30 s old before the first writeback");
        assert_eq!(durable_end(&r, at(40), &c), 10);
        assert_eq!(durable_end(&r, at(44), &c), 10, "the next writeback is at 45 s");
        assert_eq!(durable_end(&r, at(45), &c), 15);
    }

    /// `log.flush.interval.messages` = 4: `UnifiedLog.append` fsyncs once four
    /// messages are unflushed, so at most three are only in memory.
    #[test]
    fn flush_interval_messages_fsyncs_every_n_appends() {
        let r = replica(10, 4);
        let c = PageCacheConfig { dirty_writeback: Duration::ZERO, ..PageCacheConfig::default() };
        assert_eq!(durable_end(&r, at(11), &c), 8);
    }

    /// `log.flush.interval.ms` = 2000: the last flush (at 12 s) covered what
    /// was appended by then; a truncation takes the recovery point down with it.
    #[test]
    fn flush_interval_ms_fsyncs_the_log_periodically() {
        let mut r = replica(13, u64::MAX);
        let c = PageCacheConfig { flush_interval: Some(Duration::from_ms(2_000)), ..PageCacheConfig::default() };
        assert_eq!(durable_end(&r, at(13), &c), 12);
        r.truncate(5);
        assert_eq!(durable_end(&r, at(13), &c), 5);
    }
}
