//! Feeds thousands of mutated scenario files to the loader: every one must
//! load or fail with a located error, and none may panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use streamsim::scenario::load_str;

/// A tiny fixed PRNG (splitmix64): the mutations are the same on every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "-1",
    "0",
    "1",
    "99999999999999999999",
    "1e400",
    "~",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "0s",
    "1.5",
    "nan",
    ".inf",
    "true",
    "\"\"",
    "é漢",
    "\t",
    "  ",
    "\n",
    "#",
    "&a",
    "*a",
    "!!str",
    "10/s",
    "0/s",
    "1ms",
    "all",
    "broker-9",
    "analytics-7",
    "acks",
    "replication.factor",
    "min.insync.replicas",
    "crash",
    "restart",
    "pause",
    "for",
    "at",
    "exactly-once",
    "\"> 0\"",
    "<<: *a",
];

fn mutate(base: &str, rng: &mut Mix) -> String {
    let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.below(lines.len());
        match rng.below(8) {
            0 => {
                // delete a character
                let mut chars: Vec<char> = lines[i].chars().collect();
                if !chars.is_empty() {
                    chars.remove(rng.below(chars.len()));
                }
                lines[i] = chars.into_iter().collect();
            }
            1 => {
                let dup = lines[i].clone();
                lines.insert(i, dup);
            }
            2 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            3 => {
                // replace a whitespace-separated token
                let words: Vec<&str> = lines[i].split(' ').collect();
                let k = rng.below(words.len());
                let t = TOKENS[rng.below(TOKENS.len())];
                let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
                out[k] = t.to_string();
                lines[i] = out.join(" ");
            }
            4 => {
                let pad = " ".repeat(rng.below(5));
                lines[i] = format!("{pad}{}", lines[i].trim_start());
            }
            5 => lines.truncate(i),
            6 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let mut chars: Vec<char> = lines[i].chars().collect();
                let at = rng.below(chars.len() + 1);
                for (n, c) in t.chars().enumerate() {
                    chars.insert(at + n, c);
                }
                lines[i] = chars.into_iter().collect();
            }
            _ => {
                lines.remove(i);
            }
        }
    }
    lines.join("\n")
}

fn bases() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| std::fs::read_to_string(p).expect("readable scenario"))
        .collect();
    v.sort();
    v.push("name: x\nduration: 1s\ntopics: [{ name: t, partitions: 1 }]\n".to_string());
    v
}

#[test]
fn mutated_scenarios_never_panic_and_errors_are_located() {
    let bases = bases();
    assert!(bases.len() >= 4);
    let mut rng = Mix(2026);
    let (mut ok, mut err) = (0, 0);
    for n in 0..6000 {
        let base = &bases[n % bases.len()];
        let text = mutate(base, &mut rng);
        let result = catch_unwind(AssertUnwindSafe(|| load_str(&text, "mutant.yaml")));
        let Ok(result) = result else {
            panic!("the loader panicked on mutant {n}:\n{text}");
        };
        match result {
            Ok(_) => ok += 1,
            Err(e) => {
                err += 1;
                let lines = text.lines().count().max(1);
                assert!(e.line >= 1 && e.line <= lines + 1, "mutant {n}: line {} of {lines}: {e}\n{text}", e.line);
                assert!(e.column >= 1, "mutant {n}: {e}");
                assert!(e.to_string().starts_with("error: mutant.yaml:"), "{e}");
            }
        }
    }
    eprintln!("mutants: {ok} loaded, {err} rejected");
    // Both outcomes must be exercised, or the mutations are too weak or too strong.
    assert!(ok > 100 && err > 1000, "ok {ok}, err {err}");
}
