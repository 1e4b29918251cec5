//! `compare --variant 'NAME: FLAGS'`: a named column that runs the file with more overrides.
//! FLAGS are the override flags every scenario command takes (`--producer-property K=V`, ...),
//! split as a shell splits words and parsed by the same clap arguments ([`OverrideArgs`]),
//! so a variant accepts exactly what the command line accepts.

use clap::{Args, Command, FromArgMatches};

use crate::cli::error::CliError;
use crate::cli::overrides::OverrideArgs;
use crate::scenario::{OverrideKind, Overrides};

/// One `--variant`: its column name and the overrides it adds to the global ones.
#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    pub overrides: Overrides,
}

impl Variant {
    /// Whether the variant sets the seed itself (`--set seed=N`), which then wins over `--seed`.
    pub fn sets_seed(&self) -> bool {
        self.overrides.0.iter().any(|o| o.kind == OverrideKind::Set && o.key == "seed")
    }
}

/// The label of the column of the file as written (no variant); no variant may take it.
pub const BASELINE: &str = "baseline";

const FORM: &str = "write it as --variant 'NAME: FLAGS', e.g. --variant 'fix: --producer-property acks=all --topic-config min.insync.replicas=2'";
const FLAGS: &str =
    "FLAGS are --producer-property K=V, --consumer-property K=V, --topic-config K=V, --broker-config K=V and --set FIELD=VALUE";

/// Every `--variant`, in the order given; a duplicate name is an error.
pub fn parse_all(texts: &[String]) -> Result<Vec<Variant>, CliError> {
    let mut out: Vec<Variant> = Vec::new();
    for text in texts {
        let v = parse(text)?;
        if out.iter().any(|o| o.name == v.name) {
            return Err(CliError::usage(format!("variant `{}` is given twice", v.name))
                .hint("give each --variant its own NAME: it labels the column"));
        }
        out.push(v);
    }
    Ok(out)
}

/// One `NAME: FLAGS`.
pub fn parse(text: &str) -> Result<Variant, CliError> {
    let Some((name, flags)) = text.split_once(':') else {
        return Err(CliError::usage(format!("--variant `{text}` has no `:` after its name")).hint(FORM));
    };
    let name = name.trim();
    check_name(name, text)?;
    let words = split_words(flags)
        .map_err(|e| CliError::usage(format!("variant `{name}`: {e}")).hint("close every quote in FLAGS"))?;
    let overrides = parse_flags(&words).map_err(|(e, hint)| {
        CliError::usage(format!("variant `{name}`: {e}")).hint(hint.unwrap_or_else(|| FLAGS.to_string()))
    })?;
    Ok(Variant { name: name.to_string(), overrides })
}

/// A name labels a column and names its report folder: letters, digits, `-` and `_`.
fn check_name(name: &str, text: &str) -> Result<(), CliError> {
    if name.is_empty() {
        return Err(CliError::usage(format!("--variant `{text}` has an empty name")).hint(FORM));
    }
    if name == BASELINE {
        return Err(CliError::usage(format!("variant name `{BASELINE}` is taken"))
            .hint("`baseline` is the column of the file as written: choose another NAME"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(CliError::usage(format!("variant name `{name}` is not a plain name"))
            .hint("a NAME labels a column and names its report folder: use letters, digits, `-` and `_`"));
    }
    Ok(())
}

/// The override flags, as clap parses them on the command line; an error keeps clap's
/// message and its tip (a similar flag), if any, as the hint.
fn parse_flags(words: &[String]) -> Result<Overrides, (String, Option<String>)> {
    let cmd = OverrideArgs::augment_args(Command::new("variant"))
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .color(clap::ColorChoice::Never);
    let parsed = cmd.try_get_matches_from(words).and_then(|m| OverrideArgs::from_arg_matches(&m));
    match parsed {
        Ok(args) => Ok(args.overrides()),
        Err(e) => Err(clap_message(&e.to_string())),
    }
}

/// clap's error text without its `error: ` prefix and usage lines, and its `tip:` apart.
fn clap_message(text: &str) -> (String, Option<String>) {
    let mut message = String::new();
    let mut tip = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if let Some(t) = line.strip_prefix("tip: ") {
            tip = Some(t.replace('\'', "`"));
        } else if !line.is_empty() && message.is_empty() {
            message = line.strip_prefix("error: ").unwrap_or(line).replace('\'', "`");
        }
    }
    let hint = if message.contains("`--seed`") {
        Some("a variant sets its seed with --set seed=N".to_string())
    } else {
        tip.map(|t| format!("{t}; {FLAGS}"))
    };
    (message, hint)
}

/// Splits FLAGS into words as a POSIX shell does: whitespace separates, `'...'` is literal,
/// `"..."` keeps `\"` and `\\` escapes, a backslash outside quotes escapes the next character.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("a `'` is not closed".to_string()),
                    }
                }
            }
            '"' => double_quoted(&mut chars, word.get_or_insert_with(String::new))?,
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The rest of a `"..."` word, after its opening quote.
fn double_quoted(chars: &mut std::str::Chars, w: &mut String) -> Result<(), String> {
    loop {
        match chars.next() {
            Some('"') => return Ok(()),
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\')) => w.push(c),
                Some(c) => {
                    w.push('\\');
                    w.push(c);
                }
                None => return Err("a `\"` is not closed".to_string()),
            },
            Some(c) => w.push(c),
            None => return Err("a `\"` is not closed".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_a_shell_splits_them() {
        let w = split_words(r#"  --set 'faults=[{at: 1s, crash: broker-0}]' --set "a=b \"c\"" x\ y "#).unwrap();
        assert_eq!(w, ["--set", "faults=[{at: 1s, crash: broker-0}]", "--set", "a=b \"c\"", "x y"]);
        assert_eq!(split_words("''").unwrap(), [""]);
        assert!(split_words("'open").is_err());
        assert!(split_words("\"open").is_err());
    }

    #[test]
    fn a_variant_parses_its_flags_as_the_command_line_does() {
        let v = parse("fix: --producer-property acks=all --topic-config=min.insync.replicas=2").unwrap();
        assert_eq!(v.name, "fix");
        let flags: Vec<String> = v.overrides.0.iter().map(|o| o.flag_text()).collect();
        assert_eq!(flags, ["--topic-config min.insync.replicas=2", "--producer-property acks=all"]);
        assert!(!v.sets_seed());
        assert!(parse("s: --set seed=3").unwrap().sets_seed());
    }

    #[test]
    fn a_bad_variant_is_a_usage_error_naming_it() {
        let report = |t: &str| parse(t).unwrap_err().report();
        assert!(report("fix --producer-property acks=all").contains("no `:`"));
        assert!(report(": --set seed=1").contains("empty name"));
        assert!(report("baseline: --set seed=1").contains("taken"));
        assert!(report("a b: --set seed=1").contains("not a plain name"));
        let unknown = report("fix: --producer-propery acks=all");
        assert!(unknown.contains("variant `fix`: unexpected argument `--producer-propery`"), "{unknown}");
        assert!(unknown.contains("hint: a similar argument exists: `--producer-property`"), "{unknown}");
        let bad = report("fix: --producer-property acks");
        assert!(bad.contains("variant `fix`") && bad.contains("expected KEY=VALUE"), "{bad}");
        let twice = parse_all(&["a: --set seed=1".into(), "a: --set seed=2".into()]).unwrap_err().report();
        assert!(twice.contains("variant `a` is given twice"), "{twice}");
    }
}
