//! The override flags every scenario command takes (`run`, `compare`, `sweep`, `explain`,
//! `validate`, `audit`), as Kafka's CLI tools spell them, and the command line's overrides
//! once parsed: the loader writes them over the file (`crate::scenario::overrides`).

use std::sync::OnceLock;

use clap::Args;

use crate::scenario::{Override, OverrideKind, Overrides};

#[derive(Args, Debug, Clone, Default)]
pub struct OverrideArgs {
    /// A producer config for every producer, e.g. `acks=all` (repeatable; wins over the file).
    #[arg(long = "producer-property", value_name = "K=V", value_parser = producer)]
    pub producer_property: Vec<Override>,
    /// A consumer config for every consumer group, e.g. `enable.auto.commit=false` (repeatable).
    #[arg(long = "consumer-property", value_name = "K=V", value_parser = consumer)]
    pub consumer_property: Vec<Override>,
    /// A topic config for every topic, e.g. `min.insync.replicas=2` (repeatable).
    #[arg(long = "topic-config", value_name = "K=V", value_parser = topic)]
    pub topic_config: Vec<Override>,
    /// A broker config for every broker, e.g. `unclean.leader.election.enable=true` (repeatable).
    #[arg(long = "broker-config", value_name = "K=V", value_parser = broker)]
    pub broker_config: Vec<Override>,
    /// A scenario field, e.g. `duration=30s`, `seed=3`, `faults=[]` (repeatable; YAML values).
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = set)]
    pub set: Vec<Override>,
}

fn producer(s: &str) -> Result<Override, String> {
    Override::parse(OverrideKind::Producer, s)
}
fn consumer(s: &str) -> Result<Override, String> {
    Override::parse(OverrideKind::Consumer, s)
}
fn topic(s: &str) -> Result<Override, String> {
    Override::parse(OverrideKind::Topic, s)
}
fn broker(s: &str) -> Result<Override, String> {
    Override::parse(OverrideKind::Broker, s)
}
fn set(s: &str) -> Result<Override, String> {
    Override::parse(OverrideKind::Set, s)
}

impl OverrideArgs {
    /// Every override, flag by flag in the order above, each flag's in the order given.
    pub fn overrides(&self) -> Overrides {
        let all =
            [&self.set, &self.broker_config, &self.topic_config, &self.producer_property, &self.consumer_property];
        Overrides(all.into_iter().flatten().cloned().collect())
    }
}

static CURRENT: OnceLock<Overrides> = OnceLock::new();

/// Records the command line's overrides, once, before any scenario is loaded.
pub fn set_current(o: Overrides) {
    let _ = CURRENT.set(o);
}

/// The command line's overrides (none for a command that takes none).
pub fn current() -> &'static Overrides {
    static NONE: Overrides = Overrides(Vec::new());
    CURRENT.get().unwrap_or(&NONE)
}
