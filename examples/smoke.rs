use streamsim::kernel::rng::Dist;
use streamsim::kernel::time::{Duration, Instant};
use streamsim::scenario::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let commit = match args.get(1).map(|s| s.as_str()) {
        Some("before") => CommitMode::BeforeProcessing,
        Some("auto") => CommitMode::Auto,
        _ => CommitMode::AfterProcessing,
    };
    let mut cc = ConsumerConfig::default();
    cc.auto_offset_reset = OffsetReset::Earliest;
    cc.session_timeout = Duration::from_ms(10_000);
    cc.enable_auto_commit = commit == CommitMode::Auto;
    let sc = Scenario {
        name: "smoke".into(),
        description: None,
        seed: 7,
        duration: Duration::from_secs(60),
        drain: DEFAULT_DRAIN,
        semantics: None,
        brokers: 3,
        broker_config: BrokerConfig::default(),
        network: NetworkSpec::default(),
        topics: vec![TopicSpec { name: "clicks".into(), partitions: 6, replication_factor: 3, config: TopicConfig { min_insync_replicas: 2, ..Default::default() } }],
        producers: vec![ProducerSpec {
            name: "web".into(),
            topic: 0,
            instances: 1,
            rate: Rate { count: 100, per: Duration::from_secs(1), kind: ArrivalKind::Constant },
            messages: Some(6000),
            keys: 100,
            record_bytes: 100,
            config: ProducerConfig::default(),
        }],
        consumers: vec![ConsumerSpec {
            group: "analytics".into(),
            topic: 0,
            instances: 3,
            processing_time: Dist::Constant(Duration::from_ms(2)),
            commit,
            sink: SinkKind::Plain,
            config: cc,
        }],
        faults: vec![
            FaultSpec { at: Instant(30_000_000), action: FaultAction::Crash(Target::Consumer(0, 1)) },
            FaultSpec { at: Instant(20_000_000), action: FaultAction::Crash(Target::Broker(0)) },
            FaultSpec { at: Instant(40_000_000), action: FaultAction::Restart(Target::Broker(0)) },
        ],
        expect: vec![],
        max_events: DEFAULT_MAX_EVENTS,
        sample_interval: DEFAULT_SAMPLE_INTERVAL,
    };
    let t = std::time::Instant::now();
    let out = streamsim::simulate(sc).unwrap();
    let el = t.elapsed();
    println!("{}", streamsim::report::table::render(&out.summary));
    println!("wall {:?}, {:.0} events/s", el, out.summary.events as f64 / el.as_secs_f64());
}
