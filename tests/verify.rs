//! `streamsim verify TRACE.jsonl`: the summary recomputed from a trace file
//! alone equals the run's, key for key, for every shipped scenario and 50
//! chaos seeds; a truncated, reordered, edited or foreign trace, or the
//! trace of a run that stopped early, exits 2 with the line and the reason.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

fn streamsim(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(bytes) = stdin {
        // verify stops reading at the first bad line: a closed pipe is its answer, not an error.
        let _ = child.stdin.take().expect("piped").write_all(bytes);
    }
    let out = child.wait_with_output().expect("the binary ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// A trace written to memory by the library, as `run --trace` writes it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("one writer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The summary JSON of a run, and its trace.
fn traced(sc: streamsim::scenario::Scenario) -> (serde_json::Value, Vec<u8>) {
    let buf = Shared::default();
    let outcome = streamsim::simulate_with(sc, &mut |_| {}, Some(buf.clone()), false).expect("runs");
    let summary = serde_json::to_value(&outcome.summary).expect("serializes");
    let bytes = buf.0.lock().expect("done").clone();
    (summary, bytes)
}

fn verified(trace: &[u8]) -> Result<serde_json::Value, streamsim::oracle::verify::VerifyError> {
    streamsim::oracle::verify::verify(trace).map(|s| serde_json::to_value(&s).expect("serializes"))
}

/// Every shipped scenario, through the binary: `verify --json` of the file
/// `run --trace` wrote prints what `run --json` printed, byte for byte.
#[test]
fn verify_of_every_shipped_trace_prints_the_run_summary() {
    for name in common::shipped() {
        let (file, trace) = (format!("scenarios/{name}.yaml"), temp(&format!("{name}.jsonl")));
        let (code, run, err) = streamsim(&["run", &file, "--json", "--trace", trace.to_str().unwrap()], None);
        assert_eq!(code, 0, "{name}: {err}");
        let (vcode, verify, verr) = streamsim(&["verify", trace.to_str().unwrap(), "--json"], None);
        assert_eq!(vcode, 0, "{name}: {verr}");
        assert_eq!(verify, run, "{name}: verify differs from run");
        let (tcode, table, _) = streamsim(&["verify", trace.to_str().unwrap()], None);
        assert_eq!(tcode, 0);
        assert!(table.contains("produced") && table.contains(&name), "{name}: {table}");
        let _ = std::fs::remove_file(&trace);
    }
}

/// 50 chaos seeds (crashes, pauses, unclean elections, a lossy network):
/// the summary from the trace equals the run's, key for key.
#[test]
fn verify_equals_run_for_fifty_chaos_seeds() {
    let base = streamsim::scenario::load_str(common::CHAOS, "chaos.yaml").expect("valid").scenario;
    for seed in 0..50 {
        let mut sc = base.clone();
        sc.seed = seed;
        let (summary, trace) = traced(sc);
        let again = verified(&trace).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        for (key, value) in summary.as_object().expect("an object") {
            assert_eq!(again.get(key), Some(value), "seed {seed}: `{key}` differs");
        }
        assert_eq!(again, summary, "seed {seed}");
    }
}

/// What `verify` says about a trace, through the binary: (exit code, stderr).
fn refused(trace: &[u8]) -> (i32, String) {
    let (code, out, err) = streamsim(&["verify", "-"], Some(trace));
    assert!(out.is_empty(), "no summary for a bad trace: {out}");
    assert!(!err.contains("panicked"), "{err}");
    (code, err)
}

fn at_most_once() -> Vec<u8> {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/at-most-once.yaml"))
        .expect("shipped");
    traced(streamsim::scenario::load_str(&src, "at-most-once.yaml").expect("loads").scenario).1
}

/// The same scenario with an 8 s duration: a short trace for many damaged copies.
fn short_at_most_once() -> Vec<u8> {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/at-most-once.yaml"))
        .expect("shipped");
    let mut sc = streamsim::scenario::load_str(&src, "at-most-once.yaml").expect("loads").scenario;
    sc.duration = streamsim::kernel::time::Duration::from_ms(8_000);
    traced(sc).1
}

fn lines(trace: &[u8]) -> Vec<String> {
    String::from_utf8(trace.to_vec()).expect("utf-8").lines().map(str::to_string).collect()
}

fn join(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

#[test]
fn a_truncated_trace_is_refused_with_its_last_line() {
    let all = lines(&at_most_once());
    let n = all.len();
    let (code, err) = refused(&join(&all[..n - 1]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: ", n - 1)) && err.contains("truncated"), "{err}");
    // Cut in the middle of a line.
    let mut bytes = join(&all[..n / 2]);
    bytes.extend_from_slice(&all[n / 2].as_bytes()[..all[n / 2].len() / 2]);
    let (code, err) = refused(&bytes);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: not JSON", n / 2 + 1)), "{err}");
}

#[test]
fn a_reordered_trace_is_refused() {
    let mut all = lines(&at_most_once());
    // Two steps of different times swapped: time goes back.
    let i = (2..all.len()).find(|&i| all[i][..12] != all[i + 1][..12]).expect("steps at two times");
    all.swap(i, i + 1);
    let (code, err) = refused(&join(&all));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: time goes back", i + 2)), "{err}");
    // Two steps of the same time swapped: the trace hash says so at the end.
    let mut all = lines(&at_most_once());
    let j = (2..all.len() - 1).find(|&j| all[j][..12] == all[j + 1][..12] && all[j] != all[j + 1]).expect("two steps");
    all.swap(j, j + 1);
    let (code, err) = refused(&join(&all));
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("error: -:"), "a line number: {err}");
}

#[test]
fn an_edited_trace_is_refused() {
    let all = lines(&at_most_once());
    // A process step now says the sink took no effect: a consistent edit the hash catches.
    let i = all.iter().position(|l| l.contains("\"kind\":\"process\"")).expect("a process step");
    let mut edited = all.clone();
    edited[i] = edited[i].replace("\"effect\":1", "\"effect\":0");
    assert_ne!(edited[i], all[i]);
    let (code, err) = refused(&join(&edited));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: ", all.len())) && err.contains("edited"), "{err}");
    // A record that was never sent.
    let mut edited = all.clone();
    let i = all.iter().position(|l| l.contains("\"kind\":\"ack\"")).expect("an ack");
    let at = edited[i].find("\"record\":").expect("a record") + "\"record\":".len();
    let digits = edited[i][at..].find(|c: char| !c.is_ascii_digit()).expect("a number");
    edited[i].replace_range(at..at + digits, "99999999");
    let (code, err) = refused(&join(&edited));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: record 99999999", i + 1)) && err.contains("never sent"), "{err}");
    // A send out of step with its producer's send order (the ledger derives send_seq, so verify must check it).
    let mut edited = all.clone();
    let i = all.iter().position(|l| l.contains("\"kind\":\"send\"") && l.contains("\"send_seq\":1,")).expect("a send");
    edited[i] = edited[i].replace("\"send_seq\":1,", "\"send_seq\":7,");
    let (code, err) = refused(&join(&edited));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: record ", i + 1)) && err.contains("send_seq 7"), "{err}");
    // The header: another consumer name.
    let mut edited = all.clone();
    edited[0] = edited[0].replace("billing-0", "billing-9");
    let (code, err) = refused(&join(&edited));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("header_hash"), "{err}");
    // A line after the end.
    let mut edited = all.clone();
    edited.push(all[1].clone());
    let (code, err) = refused(&join(&edited));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("-:{}: a line after the `end`", all.len() + 1)), "{err}");
}

#[test]
fn a_foreign_file_is_refused_on_line_one() {
    let scenario = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/homework.yaml")).unwrap();
    let v2 = br#"{"trace":"streamsim","version":2,"scenario":"x","seed":0}"#.to_vec();
    let cases: [(&[u8], &str); 5] = [
        (&scenario, "-:1: not a streamsim trace"),
        (b"", "-:1: empty"),
        (b"{\"hello\":1}\n", "-:1: not a streamsim trace"),
        (&v2, "trace format version 2"),
        (b"\xff\xfe\x00garbage\n", "-:1: not UTF-8"),
    ];
    for (bytes, says) in cases {
        let (code, err) = refused(bytes);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says), "expected `{says}` in: {err}");
        assert!(err.contains("hint:"), "{err}");
    }
    let (code, _, err) = streamsim(&["verify", "/nonexistent/trace.jsonl"], None);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read `/nonexistent/trace.jsonl`"), "{err}");
}

/// A run that stops early (its event limit here, its memory budget alike)
/// streams a `cut` line: verify refuses it rather than sum part of a run.
#[test]
fn the_trace_of_a_run_that_stopped_early_is_refused() {
    let (code, trace, err) =
        streamsim(&["run", "scenarios/at-most-once.yaml", "--max-events", "5000", "--trace", "-"], None);
    assert_eq!(code, 2, "{err}");
    assert!(trace.lines().last().is_some_and(|l| l.contains("\"kind\":\"cut\"")), "{err}");
    let (code, err) = refused(trace.as_bytes());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the run stopped before its end") && err.contains("max_events"), "{err}");
    // The memory budget: the world's in-run check stops the run the same way.
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/homework.yaml")).unwrap();
    let mut sc = streamsim::scenario::load_str(&src, "homework.yaml").expect("loads").scenario;
    sc.max_memory = streamsim::world::budget::BASE_BYTES + 1000;
    let buf = Shared::default();
    let mut w = streamsim::world::World::new(sc);
    w.oracle.trace.write_to(buf.clone());
    w.oracle.write_header();
    let e = w.run().expect_err("stops on its budget");
    w.oracle.trace.cut(w.end_time().us(), &e.to_string());
    w.oracle.trace.finish().expect("in memory");
    let bytes = buf.0.lock().unwrap().clone();
    let err = verified(&bytes).expect_err("refused");
    assert!(err.message.contains("stopped before its end") && err.message.contains("max_memory"), "{err}");
}

/// Random damage to a trace (flipped bytes, dropped and doubled lines)
/// never panics verify and never passes as the original summary.
#[test]
fn damaged_traces_never_panic_and_never_pass() {
    use rand::{Rng as _, SeedableRng};
    let trace = short_at_most_once();
    let original = verified(&trace).expect("the original verifies");
    let all = lines(&trace);
    let mut chacha = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let mut below = |n: usize| (chacha.next_u64() % n as u64) as usize;
    for case in 0..200 {
        let damaged = match case % 3 {
            0 => {
                let mut b = trace.clone();
                let i = below(b.len());
                b[i] ^= 1 << below(8);
                b
            }
            1 => {
                let mut l = all.clone();
                l.remove(1 + below(l.len() - 1));
                join(&l)
            }
            _ => {
                let mut l = all.clone();
                let i = 1 + below(l.len() - 1);
                l.insert(i, l[i].clone());
                join(&l)
            }
        };
        let got = std::panic::catch_unwind(|| verified(&damaged));
        match got {
            Err(_) => panic!("case {case}: verify panicked"),
            Ok(Ok(s)) => panic!("case {case}: a damaged trace passed (same summary: {})", s == original),
            Ok(Err(e)) => assert!(e.line >= 1, "case {case}: {e}"),
        }
    }
}

/// A line longer than any a run writes is refused at its line, not read
/// whole into memory; a header whose shape does not hold together too.
#[test]
fn oversized_lines_and_impossible_shapes_are_refused() {
    let all = lines(&short_at_most_once());
    let mut long = all[..3].to_vec();
    long.push(format!("{{\"t\":1,\"kind\":\"lag\",\"lag\":{}}}", "1".repeat(5 << 20)));
    let err = verified(&join(&long)).expect_err("refused");
    assert_eq!(err.line, 4, "{err}");
    assert!(err.message.contains("longer than 4194304 bytes"), "{err}");
    let header: serde_json::Value = serde_json::from_str(&all[0]).unwrap();
    let cases: [(&str, serde_json::Value, &str); 3] = [
        ("/shape/producers/0/keys", 4_000_000_000u64.into(), "key slots"),
        ("/shape/consumers/0/group", 7.into(), "belongs to no group"),
        ("/shape/partitions/0/replicas/0", 99.into(), "a replica on no broker"),
    ];
    for (pointer, value, says) in cases {
        let mut h = header.clone();
        *h.pointer_mut(pointer).expect(pointer) = value;
        let mut edited = all.clone();
        edited[0] = h.to_string();
        let err = verified(&join(&edited)).expect_err(pointer);
        assert_eq!(err.line, 1, "{err}");
        assert!(err.message.contains(says), "{pointer}: {err}");
    }
}
