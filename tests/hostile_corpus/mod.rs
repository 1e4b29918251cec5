//! The hostile-input corpus: the small files in tests/fixtures/hostile/ and
//! the large ones, generated here so that the repository stays small.

use std::path::{Path, PathBuf};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

/// A `len`-byte string aliased through five nested lists of 10: 10^5 copies.
pub fn alias_text_bomb(len: usize) -> String {
    let mut s = format!("a: &a {}\n", "x".repeat(len));
    for i in 0..5 {
        let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
        s.push_str(&format!("l{i}: &l{i} [{}]\n", vec![format!("*{prev}"); 10].join(", ")));
    }
    s
}

/// `levels` nested anchored lists around `len` bytes of text: each anchor keeps a copy.
pub fn anchor_nesting(levels: usize, len: usize) -> String {
    let open: String = (0..levels).map(|i| format!("&a{i} [")).collect();
    format!("{open}{}{}\n", "y".repeat(len), "]".repeat(levels))
}

/// A scenario with `warnings` producers that each raise one warning, padded
/// with comment lines to about `bytes`.
pub fn many_warnings(warnings: usize, bytes: usize) -> String {
    let mut s = String::from("name: big\nduration: 10s\ntopics: [{ name: t, partitions: 1 }]\nproducers:\n");
    for i in 0..warnings {
        s.push_str(&format!("  - {{ name: p{i}, rate: 1/s, config: {{ bootstrap.servers: x }} }}\n"));
    }
    let pad = format!("# {}\n", "x".repeat(98));
    while s.len() < bytes {
        s.push_str(&pad);
    }
    s
}

/// Comment lines just over `bytes` long.
pub fn oversized(bytes: usize) -> Vec<u8> {
    let mut v = b"name: x\n".to_vec();
    v.resize(bytes + 1, b'#');
    v
}

/// Every corpus input, named: the fixtures, then the generated ones.
pub fn all() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures/hostile exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.file_name().expect("a name").to_string_lossy().into_owned(), std::fs::read(&p).expect("readable")))
        .collect();
    out.sort();
    out.extend([
        ("alias-text-bomb-52k.yaml".to_string(), alias_text_bomb(50_000).into_bytes()),
        ("anchor-nesting-40m.yaml".to_string(), anchor_nesting(40, 1 << 20).into_bytes()),
        ("warnings-10m.yaml".to_string(), many_warnings(2_800, 10_000_000).into_bytes()),
        ("oversized-17m.yaml".to_string(), oversized(16 << 20)),
        ("long-line.yaml".to_string(), format!("name: {}\n", "x".repeat(4 << 20)).into_bytes()),
        ("many-keys.yaml".to_string(), (0..100_000).map(|i| format!("k{i}: {i}\n")).collect::<String>().into_bytes()),
    ]);
    out
}
