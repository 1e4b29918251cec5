//! The trace's first line: the format version, the names behind every id
//! (as version 2 wrote them) and the oracle's [`Shape`], from which `verify`
//! builds a fresh oracle.

use crate::oracle::shape::Shape;
use crate::oracle::Oracle;

/// The trace format this build writes and `verify` reads.
pub const FORMAT: u64 = 3;

/// The header line of a run of `shape`.
pub fn header(shape: &Shape) -> String {
    let names = |v: &mut dyn Iterator<Item = &String>| v.cloned().collect::<Vec<_>>();
    serde_json::json!({
        "trace": "streamsim",
        "version": FORMAT,
        "scenario": shape.run.scenario,
        "seed": shape.run.seed,
        "time_unit": "us",
        "brokers": shape.brokers,
        "producers": names(&mut shape.producers.iter().map(|p| &p.name)),
        "consumers": names(&mut shape.consumers.iter().map(|c| &c.name)),
        "groups": names(&mut shape.groups.iter().map(|g| &g.name)),
        "partitions": names(&mut shape.partitions.iter().map(|p| &p.name)),
        "transactional_ids": shape.transactional_ids,
        "shape": shape,
    })
    .to_string()
}

impl Oracle {
    /// Writes the header line to the trace (before the first fact).
    pub fn write_header(&mut self) {
        let line = header(&self.observed.shape);
        self.trace.write_header(&line);
    }
}

/// What `parse` reads of a header: typed, so a large header costs what its
/// shape holds (the name lists are skipped), never a JSON tree.
#[derive(serde::Deserialize)]
struct Header {
    trace: Option<String>,
    version: Option<u64>,
    shape: Option<Shape>,
}

/// The shape a header line carries, or what is wrong with it.
pub fn parse(line: &str) -> Result<Shape, String> {
    let not_trace = |why: String| format!("not a streamsim trace: the header {why}");
    let marked = line.contains("\"trace\":\"streamsim\"");
    let h: Header = serde_json::from_str(line).map_err(|e| match e.classify() {
        serde_json::error::Category::Data if marked => format!("the header: {e}"),
        serde_json::error::Category::Data => not_trace("has no `\"trace\": \"streamsim\"`".into()),
        _ => not_trace(format!("is not JSON ({e})")),
    })?;
    if h.trace.as_deref() != Some("streamsim") {
        return Err(not_trace("has no `\"trace\": \"streamsim\"`".into()));
    }
    match h.version {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "trace format version {other}: verify reads version {FORMAT} (write it again with this streamsim's `run --trace`)"
            ))
        }
        None => return Err("the header has no `version`".into()),
    }
    h.shape.ok_or_else(|| "the header has no `shape`".into())
}
