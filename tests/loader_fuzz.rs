//! Deterministic mutation test of the scenario loader: thousands of seeded
//! edits of valid scenarios (deleted characters, duplicated or swapped lines,
//! hostile tokens, broken indentation, truncation). The loader must never
//! panic, and every error must point inside the text.

use std::panic::{catch_unwind, AssertUnwindSafe};

use streamsim::scenario::{load_str, LoadError};

/// splitmix64: tiny, fixed, and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-ish in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SEEDS: [&str; 4] = [
    // The DESIGN.md example without the unmodelled faults.
    r#"name: homework
description: "6 partitions, 3 consumers"
seed: 7
duration: 60s
drain: 60s
semantics: at-least-once
brokers: 3
network:
  latency: 1ms
topics:
  - name: clicks
    partitions: 6
    replication.factor: 3
    config:
      min.insync.replicas: 2
      unclean.leader.election.enable: false
producers:
  - name: web
    topic: clicks
    instances: 1
    rate: 100/s
    messages: 6000
    keys: 100
    config:
      acks: all
      enable.idempotence: true
      retries: 2147483647
      max.in.flight.requests.per.connection: 5
consumers:
  - group: analytics
    topic: clicks
    instances: 3
    processing_time: 2ms
    commit: after-processing
    sink: plain
    config:
      enable.auto.commit: false
      max.poll.records: 500
      isolation.level: read_committed
      partition.assignment.strategy: range
faults:
  - { at: 30s, crash: analytics-1 }
  - { at: 45s, restart: analytics-1 }
  - { at: 20s, crash: broker-0 }
expect:
  lost: 0
  duplicates: "> 0"
  max_lag: "< 1000"
"#,
    // Distributions, flow style, broker config, several topics.
    r#"name: flows
duration: 1.5s
drain: 250ms
max_events: 1000000
sample_interval: 10ms
brokers: 2
broker_config:
  default.replication.factor: 2
  replica.lag.time.max.ms: 10000
  num.network.threads: 3
network: { latency: { uniform: [1ms, 3ms] } }
topics:
  - { name: a, partitions: 2 }
  - { name: b.events, partitions: 1, replication.factor: 1 }
producers:
  - { name: p, topic: a, rate: { constant: 0.5/s }, record_bytes: 512 }
  - { name: q, topic: b.events, rate: 6000/min, keys: 0, instances: 2 }
consumers:
  - group: g
    topic: a
    processing_time: { lognormal: { median: 2ms, p99: 20ms } }
    config: { partition.assignment.strategy: [cooperative-sticky, range], session.timeout.ms: "10000" }
  - group: h
    topic: b.events
    processing_time: { exp: 250us }
    commit: before-processing
faults:
  - { at: 1s, crash: p-0 }
  - { at: 1.2s, restart: p-0 }
expect:
  latency_ms.p99: "<= 3"
  rebalances: 1
"#,
    // A preset with anchors and a block scalar.
    r#"# comment
name: anchors
description: |
  multi
  line
duration: 10m
semantics: effectively-once
topics:
  - name: t
    partitions: &p 3
producers:
  - name: web
    rate: 10/s
    config: &cfg
      linger.ms: 0
      batch.size: 0
consumers:
  - group: g
    instances: *p
    config:
      auto.offset.reset: latest
      fetch.min.bytes: 1
"#,
    // The smallest scenario.
    "name: x\nduration: 1s\ntopics: [{ name: t, partitions: 1 }]\n",
];

const POOL: &[&str] = &[
    "-1",
    "0",
    "1",
    "99999999999999999999",
    "18446744073709551616",
    "1e400",
    "-0",
    "0x",
    "0o9",
    "~",
    "null",
    "[",
    "]",
    "{",
    "}",
    ": ",
    ":",
    ",",
    "- ",
    "? ",
    "0s",
    "1.5",
    "1ms",
    "0.5us",
    "100/s",
    "0/s",
    "nan",
    ".inf",
    "true",
    "all",
    "é",
    "日本語",
    "🦀",
    "\t",
    "\u{2028}",
    "\r",
    "\u{0}",
    "&a",
    "*a",
    "*zz",
    "!!str",
    "!custom",
    "|",
    ">",
    "#",
    "'",
    "\"",
    "---",
    "...",
    "%YAML 1.2",
    "<<: *a",
    "broker-0",
    "analytics-9",
    "web-0",
    "crash",
    "restart",
    "pause",
    "partition",
    "for",
    "exactly-once",
    "transactional",
    "{ exp: 0s }",
    "[1ms]",
    "lognormal",
    "acks",
    "ack",
    "bootstrap.servers",
    "group.id",
    "topics",
    "producers",
    "consumers",
    "expect",
    "\"> 0\"",
    "\n",
    "\n  ",
    "  ",
];

/// Replaces a random whitespace-separated token with one from the pool.
fn replace_token(rng: &mut Rng, text: &str) -> String {
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|&(i, c)| !c.is_whitespace() && (i == 0 || text[..i].ends_with(char::is_whitespace)))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return text.to_string();
    }
    let start = starts[rng.below(starts.len())];
    let end = text[start..].find(char::is_whitespace).map_or(text.len(), |n| start + n);
    format!("{}{}{}", &text[..start], rng.pick(POOL), &text[end..])
}

fn char_boundaries(text: &str) -> Vec<usize> {
    text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect()
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let n = lines.len();
    match rng.below(9) {
        0 => {
            // Delete one character.
            let b = char_boundaries(text);
            if b.len() < 2 {
                return text.to_string();
            }
            let i = rng.below(b.len() - 1);
            format!("{}{}", &text[..b[i]], &text[b[i + 1]..])
        }
        1 => {
            let i = rng.below(n);
            let l = lines[i].clone();
            lines.insert(i, l);
            lines.join("\n")
        }
        2 => {
            let (i, j) = (rng.below(n), rng.below(n));
            lines.swap(i, j);
            lines.join("\n")
        }
        3 | 4 => replace_token(rng, text),
        5 => {
            // Insert a token anywhere.
            let b = char_boundaries(text);
            let at = b[rng.below(b.len())];
            format!("{}{}{}", &text[..at], rng.pick(POOL), &text[at..])
        }
        6 => {
            // Change the indentation of one line.
            let i = rng.below(n);
            let l = lines[i].clone();
            lines[i] = match rng.below(4) {
                0 => format!(" {l}"),
                1 => format!("\t{l}"),
                2 => l.strip_prefix("  ").unwrap_or(&l).to_string(),
                _ => format!("    {l}"),
            };
            lines.join("\n")
        }
        7 => {
            // Truncate.
            let b = char_boundaries(text);
            text[..b[rng.below(b.len())]].to_string()
        }
        _ => {
            let i = rng.below(n);
            lines.remove(i);
            lines.join("\n")
        }
    }
}

/// Lengths in characters of the lines as libyaml counts them (it also breaks
/// lines at `\r`, NEL, LS and PS).
fn line_lengths(text: &str) -> Vec<usize> {
    let mut lens = vec![0usize];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                lens.push(0);
            }
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => lens.push(0),
            _ => {
                if let Some(last) = lens.last_mut() {
                    *last += 1;
                }
            }
        }
    }
    lens
}

fn check_location(text: &str, e: &LoadError) -> Result<(), String> {
    let lens = line_lengths(text);
    if e.line == 0 || e.line > lens.len() {
        return Err(format!("line {} outside 1..={}", e.line, lens.len()));
    }
    let max_col = lens[e.line - 1] + 1;
    if e.column == 0 || e.column > max_col {
        return Err(format!("column {} outside 1..={max_col} on line {}", e.column, e.line));
    }
    Ok(())
}

#[test]
fn seeds_are_valid() {
    for (i, s) in SEEDS.iter().enumerate() {
        if let Err(e) = load_str(s, "seed.yaml") {
            panic!("seed {i} does not load:\n{e}");
        }
    }
}

#[test]
fn mutations_never_panic_and_errors_point_inside_the_text() {
    // Deterministic by default; `LOADER_FUZZ_SEED` / `LOADER_FUZZ_CASES`
    // explore further locally (e.g. in release builds).
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases_per_seed = env("LOADER_FUZZ_CASES").map_or(600, |n| n as usize);
    let mut rng = Rng(env("LOADER_FUZZ_SEED").unwrap_or(0x5eed_cafe_f00d_0001));
    let (mut oks, mut errs) = (0usize, 0usize);
    // The fixed seeds, and every shipped scenario (new ones join automatically).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut shipped: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| std::fs::read_to_string(p).expect("readable scenario"))
        .collect();
    shipped.sort();
    let bases: Vec<&str> = SEEDS.iter().copied().chain(shipped.iter().map(String::as_str)).collect();
    for seed in &bases {
        for case in 0..cases_per_seed {
            let mut text = seed.to_string();
            for _ in 0..=rng.below(4) {
                text = mutate(&mut rng, &text);
            }
            let result = catch_unwind(AssertUnwindSafe(|| load_str(&text, "fuzz.yaml")));
            match result {
                Err(_) => panic!("load_str panicked on case {case}; input:\n{text:?}"),
                Ok(Ok(_)) => oks += 1,
                Ok(Err(e)) => {
                    if let Err(why) = check_location(&text, &e) {
                        panic!("case {case}: {why}\n{e}\ninput:\n{text:?}");
                    }
                    assert!(!e.message.is_empty());
                    errs += 1;
                }
            }
        }
    }
    assert_eq!(oks + errs, bases.len() * cases_per_seed);
    eprintln!("{oks} loaded, {errs} refused");
    // The mutations must exercise both outcomes.
    assert!(oks > 100 && errs > 1_000, "ok {oks}, errors {errs}");
}

#[test]
fn hostile_inputs() {
    let bomb = {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
            s.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        s
    };
    let inputs = [
        String::new(),
        "\u{feff}".to_string(),
        "\0".to_string(),
        "[".repeat(10_000),
        "{a: ".repeat(5_000),
        "- ".repeat(5_000),
        bomb,
        "name: x\nduration: 99999999999999999999999999999999999999999h\n".to_string(),
        "name: x\nduration: 1s\ntopics: [{ name: t, partitions: 99999999999 }]\n".to_string(),
        format!("name: {}\n", "x".repeat(100_000)),
        "name: x\nduration: 1s\ntopics: [{name: t, partitions: 1}]\nproducers: [{name: p, rate: 1000001/s}]\n".to_string(),
        "name: x\nduration: 1s\ntopics: [{name: t, partitions: 1}]\nconsumers: [{group: g, instances: 10000}, {group: h, instances: 10000}]\n".to_string(),
        "? [a, b]\n: c\n".to_string(),
        "name: x\r\nduration: 1s\r\ntopics: [{name: t, partitions: 1}]\r\n".to_string(),
    ];
    for text in inputs {
        let result = catch_unwind(AssertUnwindSafe(|| load_str(&text, "hostile.yaml")));
        match result {
            Err(_) => panic!("panicked on {:?}", text.chars().take(80).collect::<String>()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                if let Err(why) = check_location(&text, &e) {
                    panic!("{why}\n{e}");
                }
            }
        }
    }
}

#[test]
fn large_files_load_quickly() {
    // Thousands of topics, producers, consumers and faults: no quadratic work.
    let n = 3_000;
    let mut s = String::from("name: big\nduration: 10s\nbrokers: 3\ntopics:\n");
    for i in 0..n {
        s.push_str(&format!("  - {{ name: t{i}, partitions: 2 }}\n"));
    }
    s.push_str("producers:\n");
    for i in 0..n {
        s.push_str(&format!("  - {{ name: p{i}, topic: t{i}, rate: 1/s }}\n"));
    }
    s.push_str("consumers:\n");
    for i in 0..n {
        s.push_str(&format!("  - {{ group: g{i}, topic: t{i} }}\n"));
    }
    s.push_str("faults:\n");
    for i in 0..n {
        s.push_str(&format!("  - {{ at: {}ms, crash: p{i}-0 }}\n", i + 1));
    }
    let start = std::time::Instant::now();
    let loaded = load_str(&s, "big.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.scenario.topics.len(), n);
    assert_eq!(loaded.scenario.faults.len(), n);
    // An error at the very end still costs no more than a load.
    let bad = s.replace(&format!("crash: p{}-0", n - 1), "crash: nobody-0");
    let e = load_str(&bad, "big.yaml").unwrap_err();
    assert_eq!(e.line, 4 * n + 7);
    assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
}
