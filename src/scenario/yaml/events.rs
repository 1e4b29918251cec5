//! The unsafe part of the loader: libyaml's parser driven over a string,
//! one owned event at a time (a thin wrapper over libyaml's C-style API
//! that mirrors `yaml_serde`'s own).

use super::lines::pos_of_offset;
use super::{Pos, YamlError};
use libyaml_rs as sys;
use std::ffi::CStr;
use std::mem::MaybeUninit;

/// One libyaml event, owned.
#[derive(Debug)]
pub(crate) enum Event {
    DocumentStart,
    DocumentEnd,
    Alias(String),
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        text: String,
        plain: bool,
    },
    SequenceStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        tag: Option<String>,
    },
    MappingEnd,
    /// Stream start and end.
    Other,
}

/// Owns a heap-allocated, initialized libyaml parser. The parser keeps a
/// pointer to itself (its read handler's data), so it must never move:
/// it lives in a `Box` turned into a raw pointer until `drop`.
struct Parser {
    ptr: *mut sys::yaml_parser_t,
}

impl Drop for Parser {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::into_raw` in `parse` and was
        // initialized by `yaml_parser_initialize`; it is deleted and freed once.
        unsafe {
            sys::yaml_parser_delete(self.ptr);
            drop(Box::from_raw(self.ptr.cast::<MaybeUninit<sys::yaml_parser_t>>()));
        }
    }
}

/// libyaml marks are 0-based; ours are 1-based.
fn pos_of(mark: sys::yaml_mark_t) -> Pos {
    Pos {
        line: usize::try_from(mark.line).unwrap_or(usize::MAX - 1).saturating_add(1),
        column: usize::try_from(mark.column).unwrap_or(usize::MAX - 1).saturating_add(1),
    }
}

/// SAFETY: `p` is null or points to a NUL-terminated string owned by libyaml.
unsafe fn c_string(p: *const u8) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the function contract.
    let bytes = unsafe { CStr::from_ptr(p.cast()) }.to_bytes();
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// SAFETY: `event` was filled by a successful `yaml_parser_parse`.
unsafe fn convert(event: &sys::yaml_event_t) -> Event {
    // SAFETY (for every union read below): libyaml sets the union member
    // that matches `type_`, and its pointers stay valid until the event is deleted.
    unsafe {
        match event.type_ {
            sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
            sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            sys::YAML_ALIAS_EVENT => Event::Alias(c_string(event.data.alias.anchor).unwrap_or_default()),
            sys::YAML_SCALAR_EVENT => {
                let s = event.data.scalar;
                let text = if s.value.is_null() {
                    String::new()
                } else {
                    let len = usize::try_from(s.length).unwrap_or(0);
                    String::from_utf8_lossy(std::slice::from_raw_parts(s.value, len)).into_owned()
                };
                Event::Scalar {
                    anchor: c_string(s.anchor),
                    tag: c_string(s.tag),
                    text,
                    plain: s.style == sys::YAML_PLAIN_SCALAR_STYLE,
                }
            }
            sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                anchor: c_string(event.data.sequence_start.anchor),
                tag: c_string(event.data.sequence_start.tag),
            },
            sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            sys::YAML_MAPPING_START_EVENT => Event::MappingStart {
                anchor: c_string(event.data.mapping_start.anchor),
                tag: c_string(event.data.mapping_start.tag),
            },
            sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            _ => Event::Other,
        }
    }
}

/// Reads libyaml's error out of a failed parser.
///
/// SAFETY: `parser` is a live, initialized parser whose last call failed.
unsafe fn error(parser: *const sys::yaml_parser_t, source: &str) -> YamlError {
    // SAFETY: per the function contract; the strings are static C strings in libyaml.
    let (problem, context, problem_mark, context_mark, offset) = unsafe {
        let p = &*parser;
        (c_string(p.problem.cast()), c_string(p.context.cast()), p.problem_mark, p.context_mark, p.problem_offset)
    };
    let problem = problem.unwrap_or_else(|| "libyaml failed without saying why".to_string());
    // Reader errors (bad characters) carry a byte offset instead of a mark.
    let pos = if problem_mark.line == 0 && problem_mark.column == 0 && offset != 0 {
        pos_of_offset(source, usize::try_from(offset).unwrap_or(usize::MAX))
    } else {
        pos_of(problem_mark)
    };
    let mut message = format!("invalid YAML: {problem}");
    if let Some(context) = context {
        let at = pos_of(context_mark);
        message.push_str(&format!(" ({context} that starts at line {} column {})", at.line, at.column));
    }
    let line_text = source.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    let comparison = [": >", ": <", ":>", ":<"].iter().any(|c| line_text.contains(c));
    let hint = if line_text.contains('\t') {
        Some("YAML does not allow tabs for indentation; use spaces".to_string())
    } else if comparison {
        Some("quote a comparison, e.g. `duplicates: \"> 0\"`".to_string())
    } else if problem.contains("mapping values are not allowed") {
        Some("a value containing `: ` must be quoted, e.g. `description: \"a: b\"`".to_string())
    } else if problem.contains("did not find expected key") || problem.contains("expected <block end>") {
        Some("check the indentation of this line and the ones above it".to_string())
    } else {
        None
    };
    YamlError { pos, message, hint }
}

/// Feeds every event of `source` to `sink` with its start position.
pub(super) fn parse(source: &str, sink: &mut dyn FnMut(Event, Pos) -> Result<(), YamlError>) -> Result<(), YamlError> {
    let bytes = source.as_bytes();
    let raw = Box::into_raw(Box::new(MaybeUninit::<sys::yaml_parser_t>::uninit()));
    let ptr = raw.cast::<sys::yaml_parser_t>();
    // SAFETY: `ptr` points to writable memory for one parser; initialize
    // zeroes and sets it up before anything reads it.
    if unsafe { sys::yaml_parser_initialize(ptr) }.fail {
        // SAFETY: not initialized, so only the allocation is freed.
        drop(unsafe { Box::from_raw(raw) });
        return Err(YamlError { pos: Pos::START, message: "out of memory".to_string(), hint: None });
    }
    let parser = Parser { ptr };
    // SAFETY: the parser is initialized; `bytes` outlives `parser`, which is
    // dropped at the end of this function.
    unsafe {
        sys::yaml_parser_set_encoding(parser.ptr, sys::YAML_UTF8_ENCODING);
        sys::yaml_parser_set_input_string(parser.ptr, bytes.as_ptr(), bytes.len() as u64);
    }
    loop {
        let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser is live; `event` is written on success.
        if unsafe { sys::yaml_parser_parse(parser.ptr, event.as_mut_ptr()) }.fail {
            // SAFETY: the parser is live and its last call failed.
            return Err(unsafe { error(parser.ptr, source) });
        }
        // SAFETY: a successful parse initialized the event.
        let (converted, pos, end) = unsafe {
            let e = &*event.as_ptr();
            let converted = convert(e);
            let pos = pos_of(e.start_mark);
            let end = e.type_ == sys::YAML_STREAM_END_EVENT;
            sys::yaml_event_delete(event.as_mut_ptr());
            (converted, pos, end)
        };
        if end {
            return Ok(());
        }
        sink(converted, pos)?;
    }
}
