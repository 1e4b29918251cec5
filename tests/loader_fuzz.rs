//! Deterministic mutation test of the scenario loader: tens of thousands of
//! seeded edits (ChaCha8) of valid scenarios, the shipped ones and the
//! hostile corpus — deleted characters, duplicated or swapped lines, hostile
//! tokens, broken indentation, truncation, byte flips, splices of two
//! inputs, alias bombs, huge numbers, deep nesting. The loader must never
//! panic, must return within a bound for every case (a watchdog thread
//! catches a hang), and every error must point inside the text.
//!
//! `STREAMSIM_MUTANTS=1000000` runs more cases; `LOADER_FUZZ_SEED` another
//! seed. Memory stays bounded by the loader's own limits (docs/limits.md).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;
use streamsim::scenario::{load_bytes, load_str, LoadError};

/// The mutation picker: a pinned ChaCha8 stream, so a failing case replays from its seed.
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }
    /// In `0..n` (n > 0); the modulo bias is irrelevant for picking mutations.
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n.max(1) as u64) as usize
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

/// Numbers that overflow every integer type the loader uses, or are not finite.
const HUGE: &[&str] = &[
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999",
    "-170141183460469231731687303715884105729",
    "1e999999",
    "0x7fffffffffffffffffffffffffffffffff",
    "18446744073709551616",
    "4294967296",
    "2147483648",
    "87601h",
    "999999999999999999999h",
    "1000001/s",
];

/// An anchor aliased through `levels` lists of `width` (`long` makes its text long).
fn alias_bomb(rng: &mut Rng) -> String {
    let (levels, width) = (1 + rng.below(8), 2 + rng.below(12));
    let text = if rng.below(2) == 0 { "x".to_string() } else { "y".repeat(1 + rng.below(20_000)) };
    let mut s = format!("\nb0: &b0 {text}\n");
    for i in 1..=levels {
        s.push_str(&format!("b{i}: &b{i} [{}]\n", vec![format!("*b{}", i - 1); width].join(", ")));
    }
    s
}

/// Edits of the raw bytes, and the structural ones text edits rarely reach.
fn mutate_bytes(rng: &mut Rng, mut bytes: Vec<u8>, bases: &[Vec<u8>]) -> Vec<u8> {
    let at = rng.below(bytes.len() + 1);
    let last = bytes.len().saturating_sub(1);
    let insert = |bytes: &mut Vec<u8>, what: &[u8]| {
        bytes.splice(at..at, what.iter().copied());
    };
    match rng.below(7) {
        0 if !bytes.is_empty() => bytes[at.min(last)] ^= 1 << rng.below(8),
        1 if !bytes.is_empty() => bytes[at.min(last)] = rng.below(256) as u8,
        2 => {
            // A splice: the start of this input, the end of another.
            let other = &bases[rng.below(bases.len())];
            bytes.truncate(at);
            bytes.extend_from_slice(&other[rng.below(other.len() + 1)..]);
        }
        3 => {
            let bomb = alias_bomb(rng);
            insert(&mut bytes, bomb.as_bytes());
        }
        4 => {
            let n = HUGE[rng.below(HUGE.len())];
            insert(&mut bytes, n.as_bytes());
        }
        5 => {
            let open = if rng.below(2) == 0 { "[" } else { "{a: " };
            let depth = 1 + rng.below(200);
            insert(&mut bytes, open.repeat(depth).as_bytes());
        }
        _ => {
            let odd: [&[u8]; 6] = [b"\xef\xbb\xbf", b"\r", b"\0", b"\xff", b"\xc3", b"\xe2\x80\xa8"];
            insert(&mut bytes, odd[rng.below(odd.len())]);
        }
    }
    bytes
}

/// One to four mutations, byte-level or text-level.
fn mutant(rng: &mut Rng, base: &[u8], bases: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for _ in 0..=rng.below(4) {
        bytes = if rng.below(3) == 0 {
            mutate_bytes(rng, bytes, bases)
        } else {
            mutate(rng, &String::from_utf8_lossy(&bytes)).into_bytes()
        };
    }
    bytes
}

/// The fixed seeds, every shipped scenario and the hostile corpus (new files join automatically).
fn bases() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = ["scenarios", "tests/fixtures/hostile"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).expect("the folder exists"))
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let read = |p: &std::path::PathBuf| std::fs::read(p).expect("readable");
    SEEDS.iter().map(|s| s.as_bytes().to_vec()).chain(files.iter().map(read)).collect()
}

/// What the cases did.
#[derive(Debug, Default)]
struct Tally {
    oks: usize,
    errs: usize,
    worst: Duration,
    worst_case: usize,
}

/// A case that takes longer than this fails; one that has not returned after
/// `HANG` is reported by the watchdog (the test cannot stop it).
const CASE_LIMIT: Duration = Duration::from_secs(5);
const HANG: Duration = Duration::from_secs(30);

fn run_cases(seed: u64, cases: usize, progress: &AtomicUsize, current: &Mutex<Vec<u8>>) -> Tally {
    let bases = bases();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for case in 0..cases {
        let input = mutant(&mut rng, &bases[case % bases.len()], &bases);
        current.lock().unwrap_or_else(|p| p.into_inner()).clone_from(&input);
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| load_bytes(&input, "fuzz.yaml")));
        let took = start.elapsed();
        let text = String::from_utf8_lossy(&input);
        assert!(took < CASE_LIMIT, "case {case} took {took:?}; input:\n{text:?}");
        if took > tally.worst {
            (tally.worst, tally.worst_case) = (took, case);
        }
        match result {
            Err(_) => panic!("the loader panicked on case {case}; input:\n{text:?}"),
            Ok(Ok(_)) => tally.oks += 1,
            Ok(Err(e)) => {
                if let Err(why) = check_location(&text, &e) {
                    panic!("case {case}: {why}\n{e}\ninput:\n{text:?}");
                }
                assert!(!e.message.is_empty());
                tally.errs += 1;
            }
        }
        progress.store(case + 1, Ordering::Relaxed);
    }
    tally
}

#[test]
fn mutations_never_panic_or_hang_and_errors_point_inside_the_text() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("STREAMSIM_MUTANTS").map_or(50_000, |n| n as usize);
    let seed = env("LOADER_FUZZ_SEED").unwrap_or(0x5eed_cafe_f00d_0001);
    let progress = Arc::new(AtomicUsize::new(0));
    let current = Arc::new(Mutex::new(Vec::new()));
    let (p, c) = (Arc::clone(&progress), Arc::clone(&current));
    let started = Instant::now();
    let worker = std::thread::spawn(move || run_cases(seed, cases, &p, &c));
    // The watchdog: a case that never returns fails the test with its input.
    let (mut seen, mut since) = (0, Instant::now());
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
        let done = progress.load(Ordering::Relaxed);
        if done != seen {
            (seen, since) = (done, Instant::now());
        } else if since.elapsed() > HANG {
            let input = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
            panic!("case {done} has not returned after {HANG:?}; input:\n{:?}", String::from_utf8_lossy(&input));
        }
    }
    let tally = worker.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
    eprintln!("{cases} mutants (seed {seed:#x}) in {:?}: {tally:?}", started.elapsed());
    assert_eq!(tally.oks + tally.errs, cases);
    // The mutations must exercise both outcomes.
    assert!(tally.oks > cases / 50 && tally.errs > cases / 2, "{tally:?}");
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
