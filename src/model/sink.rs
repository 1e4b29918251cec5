//! Sinks: where a processed record has its effect.

use crate::oracle::ledger::{Ledger, RecordId};
use crate::scenario::SinkKind;

/// Whether processing `record` now changes the sink. A plain sink (an HTTP call,
/// an email, an append) acts every time; an idempotent sink upserts by record
/// id, so only the first processing changes anything.
pub fn takes_effect(kind: SinkKind, ledger: &Ledger, group: u32, record: RecordId) -> bool {
    match kind {
        SinkKind::Plain | SinkKind::Transactional => true,
        SinkKind::Idempotent => ledger.effects_of(group, record) == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::time::Instant;

    #[test]
    fn idempotent_sink_takes_each_record_once() {
        let mut l = Ledger::new(&[1], 1);
        let r = l.send(0, 0, 0, 0, Instant(0));
        assert!(takes_effect(SinkKind::Idempotent, &l, 0, r));
        l.processed(0, r, true, Instant(1));
        assert!(!takes_effect(SinkKind::Idempotent, &l, 0, r));
        assert!(takes_effect(SinkKind::Plain, &l, 0, r));
    }
}
