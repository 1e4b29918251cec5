//! `verify`: the summary of a run recomputed from its trace file alone.
//!
//! The header's shape builds a fresh [`Oracle`]; every line is decoded into
//! its fact ([`Fact::decode`], the inverse of `encode`), checked against what
//! the lines before built (`check`), and handed to `Oracle::emit`, as the run
//! handed it. At the `end` line the recomputed `trace_hash` and header digest
//! must match the ones the run wrote; then the oracle's own `summarize` gives
//! the summary. Nothing here reads a scenario, the world or the model.

mod check;
mod decode;
mod line;

use std::io::BufRead;

use crate::kernel::time::Instant;
use crate::oracle::checkers::Summary;
use crate::oracle::fact::Fact;
use crate::oracle::trace::header_hash;
use crate::oracle::Oracle;
use line::Line;

/// Longest header line read (a shape of a million partitions, the loader's
/// limit, takes about 60 MB).
const MAX_HEADER_BYTES: u64 = 128 << 20;
/// Longest step line read (a rebalance of 100,000 partitions takes under 1 MB).
const MAX_LINE_BYTES: u64 = 4 << 20;

/// Why a trace does not verify: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct VerifyError {
    /// 1-based; 0 when the file could not be read at all.
    pub line: u64,
    pub message: String,
}

fn at(line: u64, message: impl Into<String>) -> VerifyError {
    VerifyError { line, message: message.into() }
}

/// Reads one line of at most `max` bytes into `buf` (without its newline);
/// false at the end of the input.
fn next_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: u64, n: u64) -> Result<bool, VerifyError> {
    use std::io::Read;
    buf.clear();
    let got = r.by_ref().take(max + 1).read_until(b'\n', buf).map_err(|e| at(n, format!("cannot read: {e}")))?;
    if got == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if got as u64 > max {
        return Err(at(n, format!("longer than {max} bytes: not a streamsim trace line")));
    }
    Ok(true)
}

/// The summary the trace read from `input` holds, or the first line that is wrong.
pub fn verify(mut input: impl BufRead) -> Result<Summary, VerifyError> {
    let mut buf = Vec::new();
    if !next_line(&mut input, &mut buf, MAX_HEADER_BYTES, 1)? {
        return Err(at(1, "empty: no header line"));
    }
    let header = std::str::from_utf8(&buf).map_err(|_| at(1, "not UTF-8: not a streamsim trace"))?;
    let shape = crate::oracle::header::parse(header).map_err(|m| at(1, m))?;
    check::shape(&shape).map_err(|m| at(1, format!("the header's shape: {m}")))?;
    let header_digest = header_hash(header);
    let mut oracle = Oracle::new(shape);
    let (mut n, mut last_t) = (1u64, 0u64);
    loop {
        n += 1;
        if !next_line(&mut input, &mut buf, MAX_LINE_BYTES, n)? {
            return Err(at(n - 1, "the trace stops here without its `end` line: it was cut short (truncated)"));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| at(n, "not UTF-8"))?;
        let step = match line::parse(text).map_err(|m| at(n, m))? {
            Line::Cut(reason) => {
                return Err(at(n, format!("the run stopped before its end ({reason}): this trace holds no summary")))
            }
            Line::Step(s) => s,
        };
        if step.t < last_t {
            return Err(at(n, format!("time goes back from {last_t} µs to {} µs: lines out of order", step.t)));
        }
        last_t = step.t;
        let hashes = step.hashes.clone();
        let values = &step.values[..step.step.fields().len()];
        let fact = Fact::decode(step.step, values, step.members).map_err(|m| at(n, m))?;
        check::fact(&oracle, step.t, &fact).map_err(|m| at(n, m))?;
        emit_checked(&mut oracle, step.t, fact).map_err(|m| at(n, m))?;
        if let Some((trace_hash, header_hex)) = hashes {
            return finish(input, buf, n, &oracle, (&trace_hash, &header_hex), header_digest);
        }
    }
}

/// `Oracle::emit`, with the oracle's own assertions (a fact `check` let
/// through that still breaks one) turned into an error for this line.
fn emit_checked(oracle: &mut Oracle, t: u64, fact: Fact) -> Result<(), String> {
    let emit = std::panic::AssertUnwindSafe(|| oracle.emit(Instant(t), fact));
    std::panic::catch_unwind(emit).map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("does not fit the lines before it ({why})")
    })
}

/// At the `end` line: the hashes must match and nothing may follow.
fn finish(
    mut input: impl BufRead,
    mut buf: Vec<u8>,
    n: u64,
    oracle: &Oracle,
    (trace_hash, header_hex): (&str, &str),
    header_digest: u64,
) -> Result<Summary, VerifyError> {
    let recomputed = oracle.trace.hex();
    if recomputed != trace_hash {
        return Err(at(
            n,
            format!(
                "the lines before hash to {recomputed}, not the trace_hash {trace_hash} the run wrote: \
                 the trace was edited or its lines reordered"
            ),
        ));
    }
    if header_hex != format!("{header_digest:016x}") {
        return Err(at(n, "the header is not the one the run wrote (header_hash differs): it was edited"));
    }
    if next_line(&mut input, &mut buf, MAX_LINE_BYTES, n + 1)? {
        return Err(at(n + 1, "a line after the `end` line: two traces joined, or an edited file"));
    }
    Ok(oracle.summarize_with_losses().0)
}
