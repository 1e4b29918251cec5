//! The steps a run keeps for `explain`, stored compactly.
//!
//! A million-record run under chaos keeps about six million steps. Each one's
//! four values are record ids, offsets, entity ids and flags, which fit in
//! 32 bits nearly always; kept as `u64`s a step takes 48 bytes, kept as
//! `u32`s 32. A step with any value past `u32::MAX` (a long time span, say)
//! keeps its values whole in a side list, so every step reads back exactly
//! as it was noted.

use crate::oracle::trace::{Recorded, Step};

/// One kept step: its values narrowed, or (`wide`) an index into `Kept::wide`.
#[derive(Clone, Copy, Debug)]
struct Packed {
    t: u64,
    v: [u32; 4],
    line: u32,
    kind: Step,
    wide: bool,
}

const _: () = assert!(std::mem::size_of::<Packed>() == 32, "a kept step is 32 bytes");

/// Every kept step, in trace order.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    rows: Vec<Packed>,
    /// The values of the steps that do not fit in 32 bits each.
    wide: Vec<[u64; 4]>,
}

impl Kept {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn push(&mut self, s: Recorded) {
        let narrow = s.v.map(|x| u32::try_from(x).ok());
        let (v, wide) = match narrow {
            [Some(a), Some(b), Some(c), Some(d)] => ([a, b, c, d], false),
            _ => {
                let i = u32::try_from(self.wide.len()).expect("fewer than 2^32 wide steps");
                self.wide.push(s.v);
                ([i, 0, 0, 0], true)
            }
        };
        self.rows.push(Packed { t: s.t, v, line: s.line, kind: s.kind, wide });
    }

    /// Step `i` as it was noted; panics past the end, as indexing does.
    #[inline]
    pub fn get(&self, i: usize) -> Recorded {
        let p = self.rows[i];
        let v = if p.wide { self.wide[p.v[0] as usize] } else { p.v.map(u64::from) };
        Recorded { t: p.t, v, line: p.line, kind: p.kind }
    }

    /// The time (µs) of step `i`, without unpacking it (binary searches use it).
    #[inline]
    pub fn t(&self, i: usize) -> u64 {
        self.rows[i].t
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
}
