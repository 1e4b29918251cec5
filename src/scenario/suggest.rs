//! "Did you mean …?": the closest known name to a misspelt one.

/// Optimal-string-alignment distance (Damerau-Levenshtein where a
/// transposition of two neighbours costs 1), over chars.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let cols = b.len() + 1;
    // Three rolling rows: two back (for transpositions), previous, current.
    let mut two_back = vec![0usize; cols];
    let mut prev: Vec<usize> = (0..cols).collect();
    let mut cur = vec![0usize; cols];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..cols {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(two_back[j - 2] + 1);
            }
            cur[j] = best;
        }
        std::mem::swap(&mut two_back, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[cols - 1]
}

/// Folds case and treats `_`, `-` and `.` alike, so `replication_factor`
/// finds `replication.factor`.
fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '_' | '-' => '.',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The candidate closest to `word`, if it is close enough to be a likely typo:
/// at most one edit per three characters (at least one), or `word` is a
/// dotted prefix of it (`latency_ms` → `latency_ms.p50`). Ties go to the
/// earlier candidate.
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // Long garbage keys would make the quadratic distance slow and never match.
    if word.is_empty() || word.chars().count() > 64 {
        return None;
    }
    let w = normalize(word);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let c = normalize(cand);
        let len = w.chars().count().max(c.chars().count());
        let d = distance(&w, &c);
        let close = d * 3 <= len.max(3) || (w.len() >= 3 && c.starts_with(&w) && c[w.len()..].starts_with('.'));
        if close && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {}", rest.join(", "), last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_and_transpositions() {
        assert_eq!(distance("ack", "acks"), 1);
        assert_eq!(distance("acks", "acsk"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn closest_finds_typos_only() {
        let names = ["acks", "retries", "enable.idempotence", "linger.ms"];
        assert_eq!(closest("ack", names), Some("acks"));
        assert_eq!(closest("enable.idempotance", names), Some("enable.idempotence"));
        assert_eq!(closest("enable_idempotence", names), Some("enable.idempotence"));
        assert_eq!(closest("LINGER.MS", names), Some("linger.ms"));
        assert_eq!(closest("compression", names), None);
        assert_eq!(closest("x", names), None);
        assert_eq!(closest("latency_ms", ["lost", "latency_ms.p50", "latency_ms.p99"]), Some("latency_ms.p50"));
        assert_eq!(closest("analytics-7", ["broker-0", "analytics-0", "analytics-2"]), Some("analytics-0"));
    }

    #[test]
    fn one_of_reads_naturally() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
