//! A windowed count over event time, fed by a group's sink effects in the
//! order they happen: tumbling, sliding or per-key session windows, a
//! bounded-out-of-orderness watermark, allowed lateness, and late events
//! dropped or counted as corrections.
//!
//! The watermark is the largest event time seen minus `watermark_delay`. A
//! window fires when the watermark passes its end; an event for a window
//! that already fired is late: within `allowed_lateness` (or with
//! `late: correct`) the window fires again with the new count, a
//! correction; otherwise it is dropped. Results are judged against the
//! counts of every produced record (`truth`), so a lost or repeated record
//! makes a wrong result as surely as a late one.

use std::collections::BTreeMap;

use crate::scenario::{AggregateSpec, LatePolicy, WindowKind};

/// One window's state: its count and what was last emitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub count: u64,
    /// The count emitted by the last firing, if it fired.
    pub emitted: Option<u64>,
    /// When it first fired (µs of virtual time).
    pub first_fired_us: u64,
}

/// A session of one key: event times `[start, end]` and its window state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub start: u64,
    pub end: u64,
    pub window: Window,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events behind the watermark when they arrived.
    pub late_events: u64,
    pub fired: u64,
    /// Firings of a window that had fired before.
    pub corrected: u64,
    pub dropped_events: u64,
}

/// An event that reached the aggregation behind its watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateArrival {
    pub record: u32,
    /// The watermark when it arrived (µs of event time).
    pub watermark: u64,
    /// When it arrived (µs of virtual time).
    pub at_us: u64,
    /// Its window had closed for good, so it was not counted.
    pub dropped: bool,
    /// The record whose event time set the watermark, and that event time.
    pub setter: u32,
    pub setter_event_us: u64,
}

/// The operator of one consumer group.
#[derive(Clone, Debug)]
pub struct Aggregator {
    pub spec: AggregateSpec,
    /// Largest event time seen (µs); `None` before the first event.
    max_event: Option<u64>,
    /// The record that brought it.
    max_event_record: u32,
    /// Tumbling and sliding windows by start (µs).
    pub windows: BTreeMap<u64, Window>,
    /// Session windows per key, ordered by start.
    pub sessions: BTreeMap<u32, Vec<Session>>,
    pub counters: Counters,
    /// Late arrivals, for `explain`.
    pub late: Vec<LateArrival>,
}

impl Aggregator {
    pub fn new(spec: AggregateSpec) -> Aggregator {
        Aggregator {
            spec,
            max_event: None,
            max_event_record: 0,
            windows: BTreeMap::new(),
            sessions: BTreeMap::new(),
            counters: Counters::default(),
            late: Vec::new(),
        }
    }

    /// The watermark: no event older than this is expected any more.
    pub fn watermark(&self) -> Option<u64> {
        self.max_event.map(|m| m.saturating_sub(self.spec.watermark_delay.us()))
    }

    fn lateness(&self) -> u64 {
        match self.spec.late {
            LatePolicy::Correct => u64::MAX,
            LatePolicy::Drop => self.spec.allowed_lateness.us(),
        }
    }

    /// An effect of record `record` with event time `t` (µs) and key `key` at virtual time `now` (µs).
    pub fn observe(&mut self, record: u32, t: u64, key: u32, now: u64) {
        let dropped_before = self.counters.dropped_events;
        let late_at = self.watermark().filter(|&w| t < w);
        if late_at.is_some() {
            self.counters.late_events += 1;
        }
        let setter = (self.max_event_record, self.max_event.unwrap_or(0));
        let raises = self.max_event.is_none_or(|m| t > m);
        self.observe_counted(t, key, now);
        if raises {
            self.max_event_record = record;
        }
        if let Some(watermark) = late_at {
            let dropped = self.counters.dropped_events > dropped_before;
            self.late.push(LateArrival {
                record,
                watermark,
                at_us: now,
                dropped,
                setter: setter.0,
                setter_event_us: setter.1,
            });
        }
    }

    fn observe_counted(&mut self, t: u64, key: u32, now: u64) {
        let lateness = self.lateness();
        let wm = self.watermark();
        // Closed for good: fired, and the watermark is past its end plus the lateness.
        let closed = |end: u64| wm.is_some_and(|w| w >= end.saturating_add(lateness));
        match self.spec.window {
            WindowKind::Tumbling { size } => {
                let start = t - t % size.us();
                self.add(start, start + size.us(), closed(start + size.us()), now);
            }
            WindowKind::Sliding { size, slide } => {
                let (size, slide) = (size.us(), slide.us());
                let last = t - t % slide;
                let mut start = (last + slide).saturating_sub(size);
                start -= start % slide;
                while start <= last {
                    if start + size > t {
                        self.add(start, start + size, closed(start + size), now);
                    }
                    start += slide;
                }
            }
            WindowKind::Session { gap } => self.add_session(t, key, gap.us(), lateness, now),
        }
        self.max_event = Some(self.max_event.map_or(t, |m| m.max(t)));
        self.fire(now);
    }

    /// Counts the event in the window `[start, end)`, unless it closed for good.
    fn add(&mut self, start: u64, end: u64, closed: bool, now: u64) {
        let w = self.windows.entry(start).or_default();
        if w.emitted.is_some() && closed {
            self.counters.dropped_events += 1;
            return;
        }
        w.count += 1;
        if w.emitted.is_some() {
            // A late event within the lateness: the window fires again.
            w.emitted = Some(w.count);
            self.counters.fired += 1;
            self.counters.corrected += 1;
        }
        let _ = (end, now);
    }

    /// Session windows: the event joins (and may merge) the key's sessions
    /// within `gap` of it, or starts a new one.
    fn add_session(&mut self, t: u64, key: u32, gap: u64, lateness: u64, now: u64) {
        let wm = self.watermark();
        let list = self.sessions.entry(key).or_default();
        let touching: Vec<usize> = (0..list.len())
            .filter(|&i| list[i].start <= t.saturating_add(gap) && t <= list[i].end.saturating_add(gap))
            .collect();
        let fired = touching.iter().any(|&i| list[i].window.emitted.is_some());
        let end = touching.iter().map(|&i| list[i].end).max().unwrap_or(t).max(t);
        let closed = wm.is_some_and(|w| w >= end.saturating_add(gap).saturating_add(lateness));
        if fired && closed {
            self.counters.dropped_events += 1;
            return;
        }
        let mut merged = Session { start: t, end: t, window: Window { count: 1, emitted: None, first_fired_us: 0 } };
        for &i in touching.iter().rev() {
            let s = list.remove(i);
            merged.start = merged.start.min(s.start);
            merged.end = merged.end.max(s.end);
            merged.window.count += s.window.count;
            if s.window.emitted.is_some() {
                merged.window.first_fired_us = if merged.window.emitted.is_some() {
                    merged.window.first_fired_us.min(s.window.first_fired_us)
                } else {
                    s.window.first_fired_us
                };
                merged.window.emitted = s.window.emitted;
            }
        }
        if merged.window.emitted.is_some() {
            merged.window.emitted = Some(merged.window.count);
            self.counters.fired += 1;
            self.counters.corrected += 1;
        }
        let pos = list.iter().position(|s| s.start > merged.start).unwrap_or(list.len());
        list.insert(pos, merged);
        let _ = now;
    }

    /// Fires every window whose end the watermark has passed.
    pub fn fire(&mut self, now: u64) {
        let Some(wm) = self.watermark() else { return };
        self.fire_up_to(wm, now);
    }

    /// At the end of the stream the watermark jumps to the end of time (as
    /// Flink's final watermark): every window still open fires.
    pub fn finish(&mut self, now: u64) {
        self.fire_up_to(u64::MAX, now);
    }

    fn fire_up_to(&mut self, wm: u64, now: u64) {
        match self.spec.window {
            WindowKind::Tumbling { size } | WindowKind::Sliding { size, .. } => {
                let size = size.us();
                for (&start, w) in self.windows.iter_mut() {
                    if start.saturating_add(size) > wm {
                        break;
                    }
                    if w.emitted.is_none() {
                        w.emitted = Some(w.count);
                        w.first_fired_us = now;
                        self.counters.fired += 1;
                    }
                }
            }
            WindowKind::Session { gap } => {
                for list in self.sessions.values_mut() {
                    for s in list.iter_mut() {
                        if s.window.emitted.is_none() && s.end.saturating_add(gap.us()) <= wm {
                            s.window.emitted = Some(s.window.count);
                            s.window.first_fired_us = now;
                            self.counters.fired += 1;
                        }
                    }
                }
            }
        }
    }
}

impl Aggregator {
    /// Every window's final emitted result, keyed as `truth_windows` keys them.
    pub fn results(&self) -> BTreeMap<(u32, u64, u64), (u64, u64)> {
        let mut out = BTreeMap::new();
        match self.spec.window {
            WindowKind::Tumbling { size } | WindowKind::Sliding { size, .. } => {
                for (&start, w) in &self.windows {
                    if let Some(c) = w.emitted {
                        out.insert((0, start, start + size.us()), (c, w.first_fired_us));
                    }
                }
            }
            WindowKind::Session { .. } => {
                for (&key, list) in &self.sessions {
                    for s in list {
                        if let Some(c) = s.window.emitted {
                            out.insert((key, s.start, s.end), (c, s.window.first_fired_us));
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::time::Duration;

    fn spec(window: WindowKind, wm_ms: u64, lateness_ms: u64, late: LatePolicy) -> AggregateSpec {
        AggregateSpec {
            window,
            watermark_delay: Duration::from_ms(wm_ms),
            allowed_lateness: Duration::from_ms(lateness_ms),
            late,
        }
    }
    /// The correct result (the oracle's own copy is `oracle::windows::truth`; the model
    /// never computes it, only its tests do): every produced record's event time, counted into the
    /// same windows. Returns, per window (start µs, or for sessions (key, start,
    /// end)), the true count.
    fn truth_windows(kind: WindowKind, events: &mut [(u32, u64)]) -> BTreeMap<(u32, u64, u64), u64> {
        let mut out = BTreeMap::new();
        match kind {
            WindowKind::Tumbling { size } => {
                let size = size.us();
                for &(_, t) in events.iter() {
                    let start = t - t % size;
                    *out.entry((0, start, start + size)).or_insert(0) += 1;
                }
            }
            WindowKind::Sliding { size, slide } => {
                let (size, slide) = (size.us(), slide.us());
                for &(_, t) in events.iter() {
                    let last = t - t % slide;
                    let mut start = (last + slide).saturating_sub(size);
                    start -= start % slide;
                    while start <= last {
                        if start + size > t {
                            *out.entry((0, start, start + size)).or_insert(0) += 1;
                        }
                        start += slide;
                    }
                }
            }
            WindowKind::Session { gap } => {
                events.sort_unstable();
                let mut i = 0;
                while i < events.len() {
                    let key = events[i].0;
                    let (start, mut end, mut n) = (events[i].1, events[i].1, 0u64);
                    while i < events.len() && events[i].0 == key && events[i].1 <= end.saturating_add(gap.us()) {
                        end = end.max(events[i].1);
                        n += 1;
                        i += 1;
                    }
                    out.insert((key, start, end), n);
                }
            }
        }
        out
    }

    const S: u64 = 1_000_000;

    #[test]
    fn tumbling_windows_fire_when_the_watermark_passes_and_drop_late_events() {
        let mut a =
            Aggregator::new(spec(WindowKind::Tumbling { size: Duration::from_secs(10) }, 2_000, 0, LatePolicy::Drop));
        a.observe(0, S, 0, 1);
        a.observe(0, 9 * S, 0, 2);
        a.observe(0, 11 * S, 0, 3); // watermark 9 s: [0,10) still open
        assert_eq!(a.counters.fired, 0);
        a.observe(0, 12 * S, 0, 4); // watermark 10 s: [0,10) fires with 2
        assert_eq!((a.counters.fired, a.windows[&0].emitted), (1, Some(2)));
        a.observe(0, 5 * S, 0, 5); // late and closed: dropped
        assert_eq!((a.counters.late_events, a.counters.dropped_events), (1, 1));
        a.finish(6);
        let r = a.results();
        assert_eq!(r[&(0, 0, 10 * S)].0, 2);
        assert_eq!(r[&(0, 10 * S, 20 * S)].0, 2);
        let mut events = vec![(0, S), (0, 9 * S), (0, 11 * S), (0, 12 * S), (0, 5 * S)];
        let truth = truth_windows(a.spec.window, &mut events);
        assert_eq!(truth[&(0, 0, 10 * S)], 3, "the dropped event makes this window's result wrong");
    }

    #[test]
    fn allowed_lateness_and_correct_policy_re_fire_windows() {
        let mut a =
            Aggregator::new(spec(WindowKind::Tumbling { size: Duration::from_secs(10) }, 0, 5_000, LatePolicy::Drop));
        a.observe(0, S, 0, 1);
        a.observe(0, 12 * S, 0, 2); // fires [0,10) with 1
        a.observe(0, 2 * S, 0, 3); // late, within lateness: correction to 2
        assert_eq!((a.counters.corrected, a.windows[&0].emitted), (1, Some(2)));
        a.observe(0, 16 * S, 0, 4); // watermark 16 s >= 10 + 5: closed for good
        a.observe(0, 3 * S, 0, 5);
        assert_eq!(a.counters.dropped_events, 1);
        let mut c =
            Aggregator::new(spec(WindowKind::Tumbling { size: Duration::from_secs(10) }, 0, 0, LatePolicy::Correct));
        c.observe(0, S, 0, 1);
        c.observe(0, 50 * S, 0, 2);
        c.observe(0, 2 * S, 0, 3);
        assert_eq!((c.counters.corrected, c.counters.dropped_events, c.windows[&0].emitted), (1, 0, Some(2)));
    }

    #[test]
    fn sliding_windows_count_each_event_in_every_window_covering_it() {
        let kind = WindowKind::Sliding { size: Duration::from_secs(10), slide: Duration::from_secs(5) };
        let mut events = vec![(0, 7 * S)];
        let truth = truth_windows(kind, &mut events);
        assert_eq!(truth.keys().map(|k| (k.1 / S, k.2 / S)).collect::<Vec<_>>(), [(0, 10), (5, 15)]);
        let mut a = Aggregator::new(spec(kind, 0, 0, LatePolicy::Drop));
        a.observe(0, 7 * S, 0, 1);
        a.finish(2);
        assert_eq!(a.results().len(), 2);
    }

    #[test]
    fn sessions_merge_per_key_and_match_the_truth() {
        let kind = WindowKind::Session { gap: Duration::from_secs(5) };
        let mut a = Aggregator::new(spec(kind, 0, 0, LatePolicy::Drop));
        for (t, k) in [(S, 1), (3 * S, 1), (2 * S, 2), (20 * S, 1)] {
            a.observe(0, t, k, t);
        }
        a.finish(99);
        let mut events = vec![(1, S), (1, 3 * S), (2, 2 * S), (1, 20 * S)];
        let truth = truth_windows(kind, &mut events);
        let got: BTreeMap<_, _> = a.results().into_iter().map(|(k, (c, _))| (k, c)).collect();
        assert_eq!(got, truth);
        assert_eq!(truth[&(1, S, 3 * S)], 2);
    }
}
