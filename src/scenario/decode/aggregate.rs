//! `aggregate:` — a consumer's windowed aggregation: the window kind, the
//! watermark delay, allowed lateness and what happens to late records.

use super::super::limits::MAX_WINDOWS_PER_EVENT;
use super::super::model::{AggregateSpec, LatePolicy, WindowKind};
use super::super::yaml::Node;
use super::problem::{join, problem, R};
use super::tree::{mapping, Entry};
use super::values::{choice, duration, positive_duration};
use crate::kernel::time::Duration;

/// `aggregate: { window: { tumbling: 10s }, watermark: 2s, allowed_lateness: 0s, late: drop }`.
pub(super) fn aggregate(node: &Node, field: &str) -> R<AggregateSpec> {
    let m = mapping(node, field, "a mapping like `{ window: { tumbling: 10s }, watermark: 2s }`")?;
    m.known(&["window", "watermark", "allowed_lateness", "late"])?;
    let w = m.require("window", "window: { tumbling: 10s }")?;
    let window = window(w, &join(field, "window"))?;
    let watermark_delay = match m.get("watermark") {
        Some(e) => duration(e.value, &e.field)?,
        None => Duration::ZERO,
    };
    let allowed_lateness = match m.get("allowed_lateness") {
        Some(e) => duration(e.value, &e.field)?,
        None => Duration::ZERO,
    };
    let late = match m.get("late") {
        Some(e) => choice(e.value, &e.field, &[("drop", LatePolicy::Drop), ("correct", LatePolicy::Correct)])?,
        None => LatePolicy::Drop,
    };
    Ok(AggregateSpec { window, watermark_delay, allowed_lateness, late })
}

/// `{ tumbling: 10s }`, `{ sliding: { size: 10s, every: 5s } }` or `{ session: 5s }`.
fn window(w: &Node, wf: &str) -> R<WindowKind> {
    let wm = mapping(w, wf, "`{ tumbling: 10s }`, `{ sliding: { size: 10s, every: 5s } }` or `{ session: 5s }`")?;
    wm.known(&["tumbling", "sliding", "session"])?;
    match wm.entries.as_slice() {
        [e] => match e.key {
            "tumbling" => Ok(WindowKind::Tumbling { size: positive_duration(e.value, &e.field)? }),
            "session" => Ok(WindowKind::Session { gap: positive_duration(e.value, &e.field)? }),
            _ => sliding(e),
        },
        _ => Err(problem(w.pos, wf, format!("{wf}: give one window kind: tumbling, sliding or session"))
            .hint("e.g. `window: { tumbling: 10s }`")),
    }
}

/// `sliding: { size: 10s, every: 5s }`: the slide divides the size.
fn sliding(e: &Entry<'_>) -> R<WindowKind> {
    let sm = mapping(e.value, &e.field, "`{ size: 10s, every: 5s }`")?;
    sm.known(&["size", "every"])?;
    let size_n = sm.require("size", "size: 10s")?;
    let size = positive_duration(size_n, &join(&e.field, "size"))?;
    let every_n = sm.require("every", "every: 5s")?;
    let slide = positive_duration(every_n, &join(&e.field, "every"))?;
    if slide > size || size.us() % slide.us() != 0 {
        return Err(problem(
            every_n.pos,
            &join(&e.field, "every"),
            format!("{}.every: must divide the window size ({size}) evenly", e.field),
        )
        .hint("e.g. `{ size: 10s, every: 5s }`"));
    }
    // Each event is counted in size/slide windows, one at a time.
    let per_event = size.us() / slide.us();
    if per_event > MAX_WINDOWS_PER_EVENT {
        let least = Duration(size.us().div_ceil(MAX_WINDOWS_PER_EVENT));
        return Err(problem(
            every_n.pos,
            &join(&e.field, "every"),
            format!(
                "{}.every: a {size} window sliding every {slide} puts each event in {per_event} windows; at most {MAX_WINDOWS_PER_EVENT} are allowed",
                e.field
            ),
        )
        .hint(format!("slide by at least {least} (size / {MAX_WINDOWS_PER_EVENT}, dividing the size evenly), or use a shorter window")));
    }
    Ok(WindowKind::Sliding { size, slide })
}
