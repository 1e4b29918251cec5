//! Durations and rates as written in scenario files, parsed exactly into
//! integer microseconds (no floats).

use crate::kernel::time::Duration;

/// Parses a decimal like `1.5` into (integer, scale) = (15, 10).
fn decimal(text: &str) -> Option<(u128, u128)> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 9
        || int.len() > 18
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let value: u128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some((value, 10u128.pow(frac.len() as u32)))
}

const UNITS: [(&str, u128); 6] =
    [("us", 1), ("ms", 1_000), ("s", 1_000_000), ("min", 60_000_000), ("m", 60_000_000), ("h", 3_600_000_000)];

/// `250us`, `2ms`, `1.5s`, `2m`, `1h` → microseconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let unit = UNITS.iter().find(|(u, _)| t.ends_with(u) && decimal(&t[..t.len() - u.len()]).is_some());
    let Some(&(u, scale_us)) = unit else {
        if decimal(t).is_some() {
            return Err(format!("`{t}` has no unit; write e.g. `{t}ms` or `{t}s` (units: us, ms, s, m, h)"));
        }
        return Err(format!("`{t}` is not a duration (e.g. `500ms`, `1.5s`; units: us, ms, s, m, h)"));
    };
    let (value, div) = decimal(&t[..t.len() - u.len()]).expect("checked above");
    let us = value * scale_us;
    if us % div != 0 {
        return Err(format!("`{t}` is finer than a microsecond, the clock's resolution"));
    }
    let us = us / div;
    if us > u64::MAX as u128 / 4 {
        return Err(format!("`{t}` is too long"));
    }
    Ok(Duration(us as u64))
}

/// `100/s`, `6000/min`, `2/ms`, `0.5/s` → (count, per).
pub fn parse_rate(text: &str) -> Result<(u64, Duration), String> {
    let t = text.trim();
    let Some((n, per)) = t.split_once('/') else {
        return Err(format!("`{t}` is not a rate; write e.g. `100/s` or `6000/min`"));
    };
    let Some((value, div)) = decimal(n.trim()) else {
        return Err(format!("`{t}`: `{n}` is not a number"));
    };
    let per_us: u128 = match per.trim() {
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        other => return Err(format!("`{t}`: unknown time unit `{other}` (use us, ms, s, min, h)")),
    };
    if value == 0 {
        return Err(format!("`{t}`: a rate must be above zero"));
    }
    let per_total = per_us * div;
    if value > u32::MAX as u128 || per_total > u64::MAX as u128 / 4 {
        return Err(format!("`{t}` is out of range"));
    }
    Ok((value as u64, Duration(per_total as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_exact() {
        assert_eq!(parse_duration("250us"), Ok(Duration(250)));
        assert_eq!(parse_duration("2ms"), Ok(Duration(2_000)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration(1_500_000)));
        assert_eq!(parse_duration("2m"), Ok(Duration(120_000_000)));
        assert_eq!(parse_duration("1h"), Ok(Duration(3_600_000_000)));
        assert_eq!(parse_duration("0s"), Ok(Duration(0)));
        assert!(parse_duration("1500").unwrap_err().contains("no unit"));
        assert_eq!(parse_duration("1.000001s"), Ok(Duration(1_000_001)));
        assert!(parse_duration("0.5us").unwrap_err().contains("microsecond"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100/s"), Ok((100, Duration(1_000_000))));
        assert_eq!(parse_rate("6000/min"), Ok((6000, Duration(60_000_000))));
        assert_eq!(parse_rate("0.5/s"), Ok((5, Duration(10_000_000))));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("10/week").is_err());
        assert!(parse_rate("100").is_err());
    }
}
