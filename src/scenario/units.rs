//! Durations (`1.5s`) and rates (`100/s`), parsed exactly: decimal text is
//! turned into integers with checked arithmetic, never through a float.

use crate::kernel::time::Duration;

/// A value that does not parse, with what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnitError {
    pub message: String,
    pub hint: Option<String>,
}

fn fail(message: String, hint: Option<&str>) -> UnitError {
    UnitError { message, hint: hint.map(str::to_string) }
}

/// The longest span any duration may have: 10 years of virtual time. Far
/// beyond any useful scenario, and small enough that sums of a few of them
/// never come near `u64::MAX` microseconds.
pub(crate) const MAX_DURATION: Duration = Duration(10 * 365 * 24 * 3_600 * 1_000_000);

/// Microseconds per unit, for the units a duration may carry. `min` as well
/// as `m`, since rates are written `6000/min`.
const DURATION_UNITS: [(&str, u64); 7] = [
    ("us", 1),
    ("µs", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
    ("min", 60_000_000),
    ("h", 3_600_000_000),
];

/// Units a rate may be "per": `100/s`, `6000/min`.
const RATE_UNITS: [(&str, u64); 5] =
    [("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000), ("min", 60_000_000), ("h", 3_600_000_000)];

/// Other spellings people write for a unit, and the unit streamsim takes.
/// They are refused (one spelling per unit keeps files greppable), with the
/// right one as the hint.
const UNIT_SPELLINGS: [(&str, &str); 16] = [
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("mins", "min"),
    ("minute", "min"),
    ("minutes", "min"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
    ("msec", "ms"),
    ("msecs", "ms"),
    ("millis", "ms"),
    ("usec", "us"),
    ("micros", "us"),
];

/// The unit streamsim takes for another spelling of it (`sec` → `s`).
fn respelled(unit: &str) -> Option<&'static str> {
    UNIT_SPELLINGS.iter().find(|(other, _)| other.eq_ignore_ascii_case(unit)).map(|(_, u)| *u)
}

/// An exact non-negative decimal: `mantissa / 10^scale`, trailing fraction zeros removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub mantissa: u128,
    pub scale: u32,
}

/// Most significant digits accepted in a decimal (u128 holds 38).
const MAX_DIGITS: usize = 30;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecimalError {
    NotANumber,
    TooLong,
}

/// Parses `12`, `1.5`, `.5`, `2.` (digits and at most one dot, no sign, no exponent).
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(DecimalError::NotANumber);
    }
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    if int_part.len() + frac_part.len() > MAX_DIGITS {
        return Err(DecimalError::TooLong);
    }
    let mut mantissa: u128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        mantissa =
            mantissa.checked_mul(10).and_then(|m| m.checked_add(u128::from(b - b'0'))).ok_or(DecimalError::TooLong)?;
    }
    let scale = u32::try_from(frac_part.len()).map_err(|_| DecimalError::TooLong)?;
    Ok(Decimal { mantissa, scale })
}

fn pow10(scale: u32) -> Option<u128> {
    10u128.checked_pow(scale)
}

/// Splits `1.5ms` into (`1.5`, `ms`), allowing spaces between them.
fn split_number_unit(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    (number, unit.trim())
}

const DURATION_HINT: &str = "write a number and a unit (us, ms, s, m or min, h), e.g. `1500ms` or `1.5s`";

/// Parses a duration such as `250us`, `1ms`, `1.5s`, `2m`, `1h` into exact microseconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(fail("expected a duration, found nothing".to_string(), Some(DURATION_HINT)));
    }
    if t.starts_with('-') {
        return Err(fail(format!("`{t}` is negative; a duration must be 0 or more"), None));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let (number, unit) = split_number_unit(t);
    let value = match parse_decimal(number) {
        Ok(d) => d,
        Err(DecimalError::TooLong) => {
            return Err(fail(format!("`{t}` is too long a duration"), Some("the limit is 87600h (10 years)")))
        }
        Err(DecimalError::NotANumber) => {
            return Err(fail(format!("expected a duration, found `{t}`"), Some(DURATION_HINT)))
        }
    };
    if unit.is_empty() {
        return Err(UnitError { message: format!("`{t}` has no unit"), hint: Some(bare_number_hint(t, "ms")) });
    }
    let Some(&(_, per_unit)) = DURATION_UNITS.iter().find(|(u, _)| *u == unit) else {
        let hint = match respelled(unit) {
            Some(u) => format!("write `{number}{u}`"),
            None => "units are us, ms, s, m (or min), h".to_string(),
        };
        return Err(UnitError { message: format!("unknown unit `{unit}` in `{t}`"), hint: Some(hint) });
    };
    let divisor = pow10(value.scale).ok_or_else(|| fail(format!("`{t}` has too many digits"), None))?;
    let scaled = value.mantissa.checked_mul(u128::from(per_unit));
    let Some(scaled) = scaled else {
        return Err(fail(format!("`{t}` is too long a duration"), Some("the limit is 87600h (10 years)")));
    };
    if scaled % divisor != 0 {
        return Err(fail(
            format!("`{t}` is not a whole number of microseconds"),
            Some("the smallest step of virtual time is 1us"),
        ));
    }
    let us = scaled / divisor;
    if us > u128::from(MAX_DURATION.0) {
        return Err(fail(format!("`{t}` is too long a duration"), Some("the limit is 87600h (10 years)")));
    }
    // Fits: bounded by MAX_DURATION above.
    Ok(Duration(us as u64))
}

/// The hint for a duration written without a unit, suggesting `unit`.
pub(crate) fn bare_number_hint(number: &str, unit: &str) -> String {
    format!("add a unit, e.g. `{number}{unit}`")
}

/// Greatest common divisor.
fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

const RATE_HINT: &str = "write a count per unit of time, e.g. `100/s` or `6000/min`";

/// Parses `100/s`, `6000/min`, `0.5/s` into (count, per) with `count` records
/// every `per`; a decimal count is scaled to integers (`0.5/s` → 1 per 2s).
pub(crate) fn parse_rate(text: &str) -> Result<(u64, Duration), UnitError> {
    let t = text.trim();
    let Some((count_text, unit)) = t.split_once('/') else {
        let bare = parse_decimal(t).is_ok();
        let hint = if bare { format!("add a unit of time, e.g. `{t}/s`") } else { RATE_HINT.to_string() };
        return Err(UnitError { message: format!("expected a rate like `100/s`, found `{t}`"), hint: Some(hint) });
    };
    let (count_text, unit) = (count_text.trim(), unit.trim());
    if count_text.starts_with('-') {
        return Err(fail(format!("`{t}` is negative; a rate must be more than 0"), None));
    }
    let count = match parse_decimal(count_text.strip_prefix('+').unwrap_or(count_text)) {
        Ok(d) => d,
        Err(DecimalError::TooLong) => return Err(fail(format!("`{t}` is too high a rate"), None)),
        Err(DecimalError::NotANumber) => {
            return Err(fail(format!("expected a rate like `100/s`, found `{t}`"), Some(RATE_HINT)))
        }
    };
    let Some(&(_, per_unit)) = RATE_UNITS.iter().find(|(u, _)| *u == unit) else {
        let hint = match respelled(unit) {
            Some(u) => format!("write `{count_text}/{u}`"),
            None => "a rate is per ms, s, min (or m) or h, e.g. `100/s`".to_string(),
        };
        return Err(UnitError { message: format!("unknown unit `{unit}` in the rate `{t}`"), hint: Some(hint) });
    };
    if count.mantissa == 0 {
        return Err(fail(format!("the rate `{t}` is 0; it must be more than 0"), None));
    }
    let Some(per) = pow10(count.scale).and_then(|p| p.checked_mul(u128::from(per_unit))) else {
        return Err(fail(format!("`{t}` has too many digits"), None));
    };
    // Only the scaling by 10^scale is undone: `100/s` stays 100 per second,
    // `0.5/s` becomes 1 per 2s.
    let g = gcd(count.mantissa, pow10(count.scale).unwrap_or(1));
    let (n, per) = (count.mantissa / g, per / g);
    if per > u128::from(MAX_DURATION.0) {
        return Err(fail(format!("the rate `{t}` is too low"), Some("at least one record per 87600h (10 years)")));
    }
    // One arrival per microsecond is the finest the clock can express.
    if n > per {
        return Err(fail(
            format!("the rate `{t}` is too high"),
            Some("at most 1000000/s per instance (one record per microsecond); add instances instead"),
        ));
    }
    // Both fit: n <= per <= MAX_DURATION < u64::MAX.
    Ok((n as u64, Duration(per as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> u64 {
        parse_duration(text).unwrap_or_else(|e| panic!("{text}: {e:?}")).us()
    }

    #[test]
    fn durations_are_exact_microseconds() {
        assert_eq!(d("1ms"), 1_000);
        assert_eq!(d("1.5s"), 1_500_000);
        assert_eq!(d("250us"), 250);
        assert_eq!(d("2m"), 120_000_000);
        assert_eq!(d("1h"), 3_600_000_000);
        assert_eq!(d("0s"), 0);
        assert_eq!(d("0.001ms"), 1);
        assert_eq!(d("1.000000s"), 1_000_000);
        assert_eq!(d(".5s"), 500_000);
        assert_eq!(d("3.s"), 3_000_000);
        assert_eq!(d(" 10 ms "), 10_000);
        assert_eq!(d("1.234567s"), 1_234_567);
        assert_eq!(d("0.1h"), 360_000_000);
        assert_eq!(d("7µs"), 7);
        assert_eq!(d("1min"), 60_000_000, "as in `6000/min`");
        assert_eq!(d("1.5min"), 90_000_000);
    }

    #[test]
    fn duration_errors_say_why() {
        let e = parse_duration("1500").unwrap_err();
        assert_eq!(e.message, "`1500` has no unit");
        assert_eq!(e.hint.as_deref(), Some("add a unit, e.g. `1500ms`"));
        let e = parse_duration("0.5us").unwrap_err();
        assert!(e.message.contains("whole number of microseconds"), "{e:?}");
        let e = parse_duration("1.0000001s").unwrap_err();
        assert!(e.message.contains("whole number of microseconds"), "{e:?}");
        let e = parse_duration("5sec").unwrap_err();
        assert_eq!(e.message, "unknown unit `sec` in `5sec`");
        assert_eq!(e.hint.as_deref(), Some("write `5s`"));
        assert_eq!(parse_duration("2hours").unwrap_err().hint.as_deref(), Some("write `2h`"));
        assert_eq!(
            parse_duration("5fortnights").unwrap_err().hint.as_deref(),
            Some("units are us, ms, s, m (or min), h")
        );
        assert!(parse_duration("-1s").unwrap_err().message.contains("negative"));
        assert!(parse_duration("99999999999999999999h").unwrap_err().message.contains("too long"));
        assert!(parse_duration("9999999999999999999999999999999999999999s").unwrap_err().message.contains("too long"));
        assert!(parse_duration("87601h").unwrap_err().message.contains("too long"));
        assert!(parse_duration("87600h").is_ok());
        assert!(parse_duration("1e3ms").is_err());
        assert!(parse_duration("1..5s").is_err());
        assert!(parse_duration(".s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn rates_reduce_to_integers() {
        assert_eq!(parse_rate("100/s").unwrap(), (100, Duration::from_secs(1)));
        assert_eq!(parse_rate("6000/min").unwrap(), (6000, Duration::from_secs(60)));
        assert_eq!(parse_rate("6000/m").unwrap(), (6000, Duration::from_secs(60)));
        assert_eq!(parse_rate("0.5/s").unwrap(), (1, Duration::from_secs(2)));
        assert_eq!(parse_rate("1.5/s").unwrap(), (3, Duration::from_secs(2)));
        assert_eq!(parse_rate("3/h").unwrap(), (3, Duration::from_secs(3600)));
        assert_eq!(parse_rate("0.25/s").unwrap(), (1, Duration::from_secs(4)));
        assert_eq!(parse_rate("2.50/ms").unwrap(), (5, Duration::from_ms(2)));
        assert_eq!(parse_rate("7/ms").unwrap(), (7, Duration::from_ms(1)));
        assert_eq!(parse_rate(" 10 / s ").unwrap(), (10, Duration::from_secs(1)));
        assert_eq!(parse_rate("1000000/s").unwrap(), (1_000_000, Duration::from_secs(1)));
    }

    #[test]
    fn rate_errors_say_why() {
        assert!(parse_rate("0/s").unwrap_err().message.contains("is 0"));
        assert!(parse_rate("-5/s").unwrap_err().message.contains("negative"));
        let e = parse_rate("100").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("add a unit of time, e.g. `100/s`"));
        assert!(parse_rate("100/fortnight").unwrap_err().message.contains("unknown unit"));
        let e = parse_rate("100/sec").unwrap_err();
        assert_eq!(e.message, "unknown unit `sec` in the rate `100/sec`");
        assert_eq!(e.hint.as_deref(), Some("write `100/s`"));
        assert!(parse_rate("2000000/s").unwrap_err().message.contains("too high"));
        assert!(parse_rate("0.0000000000001/h").unwrap_err().message.contains("too low"));
        assert!(parse_rate("99999999999999999999999999999999999/s").is_err());
        assert!(parse_rate("abc/s").is_err());
    }
}
