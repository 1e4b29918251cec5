//! The `semantics:` presets: which configs each delivery guarantee sets.
//!
//! A preset only sets configs; anything written explicitly in the file wins.
//! Values set by a preset count like Kafka's defaults for the idempotence
//! rules (only the file's own `enable.idempotence` is "explicit").

use super::model::{Acks, CommitMode, IsolationLevel, OffsetReset, ProducerConfig, Semantics, SinkKind};

/// What a preset sets on every producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerPreset {
    pub acks: Acks,
    /// `None` keeps Kafka's default (2147483647).
    pub retries: Option<u32>,
    pub enable_idempotence: bool,
    /// Sets `transactional.id` to `{producer name}-tx`.
    pub transactional: bool,
}

/// What a preset sets on every consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumerPreset {
    /// Also decides `enable.auto.commit` (true only for `auto`).
    pub commit: CommitMode,
    pub sink: SinkKind,
    pub auto_offset_reset: OffsetReset,
    /// `None` keeps Kafka's default (read_uncommitted).
    pub isolation_level: Option<IsolationLevel>,
}

/// The producer side of a preset.
pub fn producer_preset(s: Semantics) -> ProducerPreset {
    match s {
        Semantics::AtMostOnce => {
            ProducerPreset { acks: Acks::One, retries: Some(0), enable_idempotence: false, transactional: false }
        }
        Semantics::AtLeastOnce => ProducerPreset {
            acks: Acks::All,
            retries: Some(i32::MAX as u32),
            enable_idempotence: false,
            transactional: false,
        },
        Semantics::EffectivelyOnce => ProducerPreset {
            acks: Acks::All,
            retries: Some(i32::MAX as u32),
            enable_idempotence: true,
            transactional: false,
        },
        Semantics::ExactlyOnce => {
            ProducerPreset { acks: Acks::All, retries: None, enable_idempotence: true, transactional: true }
        }
    }
}

/// The consumer side of a preset.
pub fn consumer_preset(s: Semantics) -> ConsumerPreset {
    let (commit, sink, isolation_level) = match s {
        Semantics::AtMostOnce => (CommitMode::BeforeProcessing, SinkKind::Plain, None),
        Semantics::AtLeastOnce => (CommitMode::AfterProcessing, SinkKind::Plain, None),
        Semantics::EffectivelyOnce => (CommitMode::AfterProcessing, SinkKind::Idempotent, None),
        Semantics::ExactlyOnce => {
            (CommitMode::Transactional, SinkKind::Transactional, Some(IsolationLevel::ReadCommitted))
        }
    };
    ConsumerPreset { commit, sink, auto_offset_reset: OffsetReset::Earliest, isolation_level }
}

/// Applies the producer side of `s` to a config that holds Kafka's defaults;
/// explicit values are applied afterwards by the loader.
pub fn apply_preset(s: Semantics, producer_name: &str, config: &mut ProducerConfig) {
    let p = producer_preset(s);
    config.acks = p.acks;
    if let Some(r) = p.retries {
        config.retries = r;
    }
    config.enable_idempotence = p.enable_idempotence;
    if p.transactional {
        config.transactional_id = Some(format!("{producer_name}-tx"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_documented_presets() {
        let amo = producer_preset(Semantics::AtMostOnce);
        assert_eq!((amo.acks, amo.retries, amo.enable_idempotence), (Acks::One, Some(0), false));
        let alo = producer_preset(Semantics::AtLeastOnce);
        assert_eq!((alo.acks, alo.retries, alo.enable_idempotence), (Acks::All, Some(2_147_483_647), false));
        let efo = producer_preset(Semantics::EffectivelyOnce);
        assert!(efo.enable_idempotence && !efo.transactional);
        let eo = producer_preset(Semantics::ExactlyOnce);
        assert!(eo.enable_idempotence && eo.transactional);

        assert_eq!(consumer_preset(Semantics::AtMostOnce).commit, CommitMode::BeforeProcessing);
        assert_eq!(consumer_preset(Semantics::AtLeastOnce).commit, CommitMode::AfterProcessing);
        assert_eq!(consumer_preset(Semantics::EffectivelyOnce).sink, SinkKind::Idempotent);
        let eo = consumer_preset(Semantics::ExactlyOnce);
        assert_eq!((eo.commit, eo.sink), (CommitMode::Transactional, SinkKind::Transactional));
        assert_eq!(eo.isolation_level, Some(IsolationLevel::ReadCommitted));
        for s in Semantics::ALL {
            assert_eq!(consumer_preset(s).auto_offset_reset, OffsetReset::Earliest);
        }
    }

    #[test]
    fn only_exactly_once_sets_a_transactional_id() {
        let mut c = ProducerConfig::default();
        apply_preset(Semantics::ExactlyOnce, "web", &mut c);
        assert_eq!(c.transactional_id.as_deref(), Some("web-tx"));
        for s in [Semantics::AtMostOnce, Semantics::AtLeastOnce, Semantics::EffectivelyOnce] {
            let mut c = ProducerConfig::default();
            apply_preset(s, "web", &mut c);
            assert_eq!(c.transactional_id, None, "{s:?}");
        }
        assert!(c.enable_idempotence);
        let mut c = ProducerConfig::default();
        apply_preset(Semantics::AtMostOnce, "web", &mut c);
        assert_eq!((c.acks, c.retries, c.enable_idempotence), (Acks::One, 0, false));
    }
}
