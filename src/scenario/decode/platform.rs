//! `platform:` — Kafka, or Kinesis (shards without idempotent or transactional producers).

use super::super::model::{CommitMode, ConsumerSpec, Platform, ProducerSpec};
use super::problem::{problem, R};
use super::tree::Entry;
use super::values::choice;

/// Reads `platform:`; for Kinesis, refuses transactions and turns idempotence off.
pub(super) fn platform(
    entry: Option<&Entry<'_>>,
    producers: &mut [ProducerSpec],
    consumers: &[ConsumerSpec],
) -> R<Platform> {
    let Some(e) = entry else { return Ok(Platform::Kafka) };
    let p = choice(e.value, &e.field, &[("kafka", Platform::Kafka), ("kinesis", Platform::Kinesis)])?;
    if p != Platform::Kinesis {
        return Ok(p);
    }
    if let Some((i, pr)) = producers.iter().enumerate().find(|(_, p)| p.config.transactional_id.is_some()) {
        return Err(problem(
            e.value.pos,
            &e.field,
            format!("platform: kinesis has no transactions, but producers[{i}] (`{}`) is transactional", pr.name),
        )
        .hint("use `semantics: effectively-once` (an idempotent sink) with Kinesis"));
    }
    if consumers.iter().any(|c| c.commit == CommitMode::Transactional) {
        return Err(problem(
            e.value.pos,
            &e.field,
            "platform: kinesis has no transactions, but a consumer group commits `transactional`".to_string(),
        )
        .hint("use `semantics: effectively-once` (an idempotent sink) with Kinesis"));
    }
    // The Kinesis Producer Library retries without sequence numbers, and
    // after a throttle waits retry.backoff.ms each time: KIP-580's growing
    // backoff is the Kafka client's.
    for pr in producers.iter_mut() {
        pr.config.enable_idempotence = false;
        pr.config.retry_backoff_max = pr.config.retry_backoff;
    }
    Ok(p)
}
