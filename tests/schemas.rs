//! Every `--json` output of every command validates against its JSON Schema
//! in docs/schemas/ (documented in docs/json.md), and the validator catches
//! what a schema forbids.

#[path = "common/schema.rs"]
mod schema;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn streamsim(args: &[&str]) -> (i32, String, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_streamsim")).args(args).current_dir(ROOT).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn schema(name: &str) -> Value {
    let path = Path::new(ROOT).join("docs/schemas").join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let s: Value = serde_json::from_str(&text).expect("a schema is JSON");
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
    s
}

/// Runs the command, expects `code`, and validates its stdout against `name`'s schema.
fn validates(name: &str, args: &[&str], code: i32) -> Value {
    let (got, out, err) = streamsim(args);
    assert_eq!(got, code, "{args:?}: {err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {out}"));
    let errors = schema::errors(&schema(name), &v);
    assert!(errors.is_empty(), "{args:?} against {name}.schema.json:\n{}", errors.join("\n"));
    v
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-schemas-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn run_verify_and_the_report_folder_give_the_summary_schema() {
    for file in ["scenarios/homework.yaml", "scenarios/acks-1-leader-failover.yaml", "scenarios/out-of-order.yaml"] {
        validates("summary", &["run", file, "--json"], 0);
    }
    validates("summary", &["run", "examples/scenarios/faults-at-least-once.yaml", "--json"], 1);
    let dir = scratch("summary");
    let trace = dir.join("t.jsonl");
    let (code, _, err) = streamsim(&["run", "scenarios/at-most-once.yaml", "-q", "--trace", trace.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    validates("summary", &["verify", trace.to_str().unwrap(), "--json"], 0);
    let out = dir.join("report");
    assert_eq!(streamsim(&["run", "scenarios/homework.yaml", "-q", "--out", out.to_str().unwrap()]).0, 0);
    let folder: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(schema::errors(&schema("summary"), &folder), Vec::<String>::new());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn compare_check_and_explain_give_their_schemas() {
    let c = validates(
        "compare",
        &["compare", "scenarios/homework.yaml", "--semantics", "at-least-once,exactly-once", "--json", "-q"],
        0,
    );
    assert_eq!(c["compare"].as_array().map(Vec::len), Some(2));
    validates(
        "compare",
        &["compare", "scenarios/at-most-once.yaml", "scenarios/at-least-once.yaml", "--json", "-q"],
        0,
    );
    // A variant run: a null variant (the baseline) and a named one, each with its flags.
    let v = validates(
        "compare",
        &[
            "compare",
            "scenarios/acks-1-leader-failover.yaml",
            "--topic-config",
            "min.insync.replicas=2",
            "--variant",
            "fix: --producer-property acks=all",
            "--json",
            "-q",
        ],
        0,
    );
    let variants: Vec<&Value> = v["compare"].as_array().unwrap().iter().map(|c| &c["variant"]).collect();
    assert_eq!(variants, [&Value::Null, &Value::from("fix")]);
    validates("check", &["check", "scenarios/homework.yaml", "--json"], 0);
    // A pass, a failed expectation and a file that does not load: every verdict's shape.
    let dir = scratch("check");
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "name: broken\nbrokers: [\n").unwrap();
    let mixed = [
        "check",
        "scenarios/homework.yaml",
        "examples/scenarios/faults-at-least-once.yaml",
        broken.to_str().unwrap(),
        "--json",
    ];
    let v = validates("check", &mixed, 2);
    let verdicts: Vec<&str> =
        v["scenarios"].as_array().unwrap().iter().map(|s| s["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["pass", "fail", "error"]);
    std::fs::remove_dir_all(dir).unwrap();
    validates("explain", &["explain", "scenarios/at-least-once.yaml", "--json", "--limit", "2"], 0);
    validates("explain", &["explain", "scenarios/unclean-election.yaml", "--json", "--limit", "2"], 0);
}

/// Each link of an `explain --json` story names what its step is about, as
/// the trace names it: the entity (a name of the trace header, never a
/// number), the partition, the offset, and the time in milliseconds; and
/// each agrees with the step's own line of the trace.
#[test]
fn explain_json_links_name_their_entity_partition_and_offset() {
    let dir = scratch("explain-links");
    for file in ["scenarios/at-least-once.yaml", "scenarios/unclean-election.yaml", "scenarios/retries-reorder.yaml"] {
        let v = validates("explain", &["explain", file, "--json", "--limit", "3"], 0);
        let trace = dir.join("t.jsonl");
        let (code, _, err) = streamsim(&["run", file, "-q", "--trace", trace.to_str().unwrap()]);
        assert!(code == 0 || code == 1, "{err}");
        let text = std::fs::read_to_string(&trace).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let header = &lines[0];
        let names = |key: &str| header[key].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string());
        let brokers = (0..header["brokers"].as_u64().unwrap()).map(|b| format!("broker-{b}"));
        let entities: Vec<String> = brokers.chain(names("producers")).chain(names("consumers")).collect();
        let partitions: Vec<String> = names("partitions").collect();
        let stories = v["stories"].as_array().unwrap();
        assert!(!stories.is_empty(), "{file}");
        for link in stories.iter().flat_map(|s| s["chain"].as_array().unwrap()) {
            let t_us = link["t_us"].as_u64().unwrap();
            assert_eq!(link["at_ms"].as_f64().unwrap(), t_us as f64 / 1000.0, "{link}");
            // The step itself: its line of the trace (1-based).
            let step = &lines[link["line"].as_u64().unwrap() as usize - 1];
            assert_eq!(step["t"].as_u64(), Some(t_us), "{link}");
            if let Some(e) = link["entity"].as_str() {
                assert!(entities.iter().any(|n| n == e), "{file}: entity {e} is not in the header: {link}");
            }
            if !link["partition"].is_null() {
                let p = &link["partition"];
                let name = format!("{}/{}", p["topic"].as_str().unwrap(), p["partition"]);
                assert!(partitions.contains(&name), "{file}: {name}: {link}");
                if let Some(g) = step.get("partition").and_then(Value::as_u64) {
                    assert_eq!(partitions[g as usize], name, "{link}\n{step}");
                }
            }
            if let Some(o) = link["offset"].as_u64() {
                let at = ["offset", "from", "log_end", "high_watermark"].iter().find_map(|k| step.get(*k));
                assert_eq!(at.and_then(Value::as_u64), Some(o), "{link}\n{step}");
            }
        }
        // A processing names its consumer, the record's partition and offset.
        let processing = stories
            .iter()
            .flat_map(|s| s["chain"].as_array().unwrap())
            .find(|l| l["text"].as_str().unwrap().contains(" processed it from "));
        let Some(processing) = processing else {
            assert!(file.contains("unclean"), "{file}: its duplicates' stories have processing links");
            continue;
        };
        let text = processing["text"].as_str().unwrap();
        assert!(text.starts_with(processing["entity"].as_str().unwrap()), "{processing}");
        let p = &processing["partition"];
        let at = format!("{}/{}@{}", p["topic"].as_str().unwrap(), p["partition"], processing["offset"]);
        assert!(text.contains(&at), "{at}: {processing}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sweep_and_its_merge_give_the_sweep_schema() {
    let dir = scratch("sweep");
    let mut shards = Vec::new();
    for k in ["1/2", "2/2"] {
        let args = ["sweep", "scenarios/at-least-once.yaml", "--seeds", "0..4", "--shard", k, "--json", "-q"];
        let v = validates("sweep", &args, 0);
        let f = dir.join(format!("shard{}.json", &k[..1]));
        std::fs::write(&f, v.to_string()).unwrap();
        shards.push(f);
    }
    let merged = validates(
        "sweep",
        &["sweep", "--merge", shards[0].to_str().unwrap(), shards[1].to_str().unwrap(), "--json"],
        0,
    );
    assert_eq!(merged["runs"].as_array().map(Vec::len), Some(4));
    validates(
        "sweep",
        &["sweep", "examples/scenarios/faults-at-least-once.yaml", "--seeds", "0..2", "--json", "-q"],
        1,
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn validate_and_audit_give_their_schemas() {
    validates("validate", &["validate", "scenarios/homework.yaml", "--json"], 0);
    validates("validate-effective", &["validate", "scenarios/homework.yaml", "--effective", "--json"], 0);
    let args = ["validate", "scenarios/homework.yaml", "--effective", "--json", "--producer-property", "acks=1"];
    validates("validate-effective", &args, 0);
    // One fault with a proven fix, others with none: both shapes of `fix`.
    let v = validates(
        "audit",
        &["audit", "tests/fixtures/configs/confluent-consumer.py", "--seeds", "0..3", "--json", "-q"],
        0,
    );
    let fixes: Vec<bool> = v["faults"].as_array().unwrap().iter().map(|f| f["fix"].is_object()).collect();
    assert!(fixes.contains(&true) && fixes.contains(&false), "{fixes:?}");
    // All three verdicts: the loose pair is hit by some incidents and refused by others.
    let loose =
        ["tests/fixtures/configs/loose-producer.properties", "tests/fixtures/configs/loose-consumer.properties"];
    let args = ["audit", loose[0], loose[1], "--incidents", "--seeds", "0..2", "--json"];
    let v = validates("audit-incidents", &args, 0);
    let verdicts: Vec<&str> =
        v["incidents"].as_array().unwrap().iter().map(|i| i["verdict"].as_str().unwrap()).collect();
    for want in ["would hit you", "does not hit you", "does not apply"] {
        assert!(verdicts.contains(&want), "{want}: {verdicts:?}");
    }
}

/// The schemas are not vacuous: a summary missing a key, with a count of the
/// wrong type or an unknown verdict fails, and an unsupported keyword is refused.
#[test]
fn the_validator_rejects_what_the_schemas_forbid() {
    let (_, out, _) = streamsim(&["run", "scenarios/homework.yaml", "--json"]);
    let good: Value = serde_json::from_str(&out).unwrap();
    let summary = schema("summary");
    assert!(schema::errors(&summary, &good).is_empty());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("lost");
    assert_eq!(schema::errors(&summary, &missing), ["$: missing required key `lost`"]);
    let mut wrong = good.clone();
    wrong["duplicates"] = Value::from("none");
    wrong["partitions"][0]["committed"]["analytics"] = Value::from(1.5);
    assert_eq!(
        schema::errors(&summary, &wrong),
        [
            "$.duplicates: expected integer, found string",
            "$.partitions[0].committed.analytics: expected integer, found number"
        ]
    );
    let check = schema("check");
    let bad = serde_json::json!({"errors": 0, "failed": 0, "passed": 1, "scenarios": [{"error": null, "expectations": [], "file": "f", "name": "n", "seed": 1, "verdict": "maybe"}]});
    assert_eq!(schema::errors(&check, &bad).len(), 1, "{:?}", schema::errors(&check, &bad));
    let unsupported = serde_json::json!({"type": "integer", "minimum": 0});
    assert_eq!(schema::errors(&unsupported, &Value::from(1)), ["$: keyword `minimum` is outside the supported subset"]);
}

/// docs/json.md names every schema, and each schema file is one a test here validates against.
#[test]
fn every_schema_is_documented() {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/json.md")).expect("docs/json.md");
    let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("docs/schemas"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "audit-incidents",
            "audit",
            "check",
            "compare",
            "explain",
            "summary",
            "sweep",
            "validate-effective",
            "validate"
        ]
        .map(|n| format!("{n}.schema.json"))
    );
    for n in &names {
        assert!(doc.contains(&format!("schemas/{n}")), "docs/json.md names {n}");
    }
}
