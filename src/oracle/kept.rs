//! The steps a run keeps for `explain`, stored compactly.
//!
//! A million-record run under chaos keeps about five million steps. Each one's
//! four values are record ids, offsets, entity ids and flags, which fit in
//! 32 bits nearly always; kept as `u64`s a step takes 48 bytes, kept as
//! `u32`s with its time and line whole 32, and with only their low bits 24.
//! A step with any value past `u32::MAX` (a long time span, say) keeps its
//! values whole in a side list; a time's high 32 bits and a line's high 8 are
//! kept once for each run of steps that shares them (times and lines only grow
//! along a trace, so a run of hours has a handful). Every step reads back
//! exactly as it was noted.

use crate::oracle::trace::{Recorded, Step};

/// One kept step: the low 32 bits of its time; its values narrowed, or (when
/// `WIDE` is set in `tail`) an index into `Kept::wide`; and in `tail` the low
/// 24 bits of its line, then its kind's code (under 128), then `WIDE`.
#[derive(Clone, Copy, Debug)]
struct Packed {
    t_lo: u32,
    v: [u32; 4],
    tail: u32,
}

const _: () = assert!(std::mem::size_of::<Packed>() == 24, "a kept step is 24 bytes");
const _: () = assert!((Step::NoRewind as u8) < 128, "a kind's code fits in 7 bits");

const LINE_BITS: u32 = 24;
const LINE_LOW: u32 = (1 << LINE_BITS) - 1;
const WIDE: u32 = 1 << 31;

/// The high bits shared by runs of rows: (the run's first row, its high bits), rows ascending.
#[derive(Clone, Debug, Default)]
struct HighBits(Vec<(u32, u32)>);

impl HighBits {
    fn note(&mut self, row: u32, high: u32) {
        if self.0.last().is_none_or(|&(_, h)| h != high) {
            self.0.push((row, high));
        }
    }

    /// The high bits of `row`: nearly always the last run's, so that is tried first.
    #[inline]
    fn of(&self, row: u32) -> u32 {
        match self.0.last() {
            Some(&(first, high)) if first <= row => high,
            _ => self.0[self.0.partition_point(|&(first, _)| first <= row) - 1].1,
        }
    }
}

/// Every kept step, in trace order.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    rows: Vec<Packed>,
    /// The values of the steps that do not fit in 32 bits each.
    wide: Vec<[u64; 4]>,
    /// Times' bits above 32.
    t_high: HighBits,
    /// Lines' bits above 24.
    line_high: HighBits,
}

impl Kept {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn push(&mut self, s: Recorded) {
        let row = u32::try_from(self.rows.len()).expect("fewer than 2^32 kept steps");
        let narrow = s.v.map(|x| u32::try_from(x).ok());
        let (v, wide) = match narrow {
            [Some(a), Some(b), Some(c), Some(d)] => ([a, b, c, d], 0),
            _ => {
                let i = u32::try_from(self.wide.len()).expect("fewer than 2^32 wide steps");
                self.wide.push(s.v);
                ([i, 0, 0, 0], WIDE)
            }
        };
        self.t_high.note(row, (s.t >> 32) as u32);
        self.line_high.note(row, s.line >> LINE_BITS);
        let tail = (s.line & LINE_LOW) | (s.kind as u32) << LINE_BITS | wide;
        self.rows.push(Packed { t_lo: s.t as u32, v, tail });
    }

    /// Step `i` as it was noted; panics past the end, as indexing does.
    #[inline]
    pub fn get(&self, i: usize) -> Recorded {
        let p = self.rows[i];
        let v = if p.tail & WIDE != 0 { self.wide[p.v[0] as usize] } else { p.v.map(u64::from) };
        let line = self.line_high.of(i as u32) << LINE_BITS | (p.tail & LINE_LOW);
        let code = (p.tail & !WIDE) >> LINE_BITS;
        let kind = Step::from_code(code.into()).expect("a kept kind is a step's code");
        Recorded { t: self.time(i, p), v, line, kind }
    }

    /// The time (µs) of step `i`, without unpacking the rest (binary searches use it).
    #[inline]
    pub fn t(&self, i: usize) -> u64 {
        self.time(i, self.rows[i])
    }

    /// The time of row `i`, whose packed form `p` is already read.
    #[inline]
    fn time(&self, i: usize, p: Packed) -> u64 {
        u64::from(self.t_high.of(i as u32)) << 32 | u64::from(p.t_lo)
    }

    pub fn iter(&self) -> impl Iterator<Item = Recorded> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl FromIterator<Recorded> for Kept {
    fn from_iter<I: IntoIterator<Item = Recorded>>(steps: I) -> Kept {
        let mut k = Kept::default();
        for s in steps {
            k.push(s);
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_reads_back_exactly_wide_or_narrow() {
        let steps = [
            Recorded { t: 1, v: [1, 2, 3, 4], line: 0, kind: Step::Send },
            Recorded { t: 2, v: [u32::MAX as u64, 0, 0, 0], line: 1, kind: Step::Append },
            Recorded { t: 3, v: [0, 0, 0, u32::MAX as u64 + 1], line: 2, kind: Step::Ack },
            Recorded { t: u64::MAX, v: [u64::MAX; 4], line: u32::MAX, kind: Step::Process },
            Recorded { t: 5, v: [7, 0, 0, 0], line: 4, kind: Step::Crash },
        ];
        let kept: Kept = steps.iter().copied().collect();
        assert_eq!(kept.len(), steps.len());
        assert_eq!(kept.wide.len(), 2, "only the two steps past 32 bits are kept whole");
        assert_eq!(kept.iter().collect::<Vec<_>>(), steps);
        assert_eq!((0..steps.len()).map(|i| kept.t(i)).collect::<Vec<_>>(), steps.map(|s| s.t));
    }

    #[test]
    fn times_and_lines_past_their_low_bits_read_back_in_any_order() {
        let at = |t: u64, line: u32| Recorded { t, v: [9, 8, 7, 6], line, kind: Step::Replicate };
        let steps = [
            at(0, 0),
            at(u32::MAX as u64, LINE_LOW),
            at(u32::MAX as u64 + 1, LINE_LOW + 1),
            at(u32::MAX as u64 + 2, LINE_LOW + 2),
            at(7 << 40, u32::MAX),
            at(3, 5),
            at(1 << 32, 1 << 24),
        ];
        let kept: Kept = steps.iter().copied().collect();
        assert_eq!(kept.iter().collect::<Vec<_>>(), steps);
        assert_eq!((0..steps.len()).map(|i| kept.t(i)).collect::<Vec<_>>(), steps.map(|s| s.t));
        assert_eq!(kept.t_high.0.len(), 5, "one entry per run of rows sharing a time's high bits");
        assert!(kept.wide.is_empty());
    }
}
