//! Parsing and printing human durations such as `1s`, `250ms`, `1.5s`, `20us`.
//!
//! The command line of `fanout` and of the benchmark comparison takes durations in this form. A
//! duration is a non-negative decimal number followed by a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`).
//! Bad input (no unit, a negative or unparsable number, a value too large for `Duration`) is an
//! `Err` with a one-line message, never a panic.

use std::time::Duration;

/// Units accepted after the number, longest spelling first so `ms` is not read as `m`.
const UNITS: &[(&str, f64)] = &[
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
];

/// Parses a duration such as `1s`, `10ms`, `1.5s` or `250us`.
///
/// ```
/// use std::time::Duration;
/// use magpie_examples::fanout::duration::parse_duration;
/// assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
/// assert!(parse_duration("-1s").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!(
            "duration '{text}' is negative; use a value >= 0, e.g. 10ms"
        ));
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .ok_or_else(|| format!("duration '{text}' has no unit; write e.g. 1s, 250ms or 50us"))?;
    let (number, unit) = text.split_at(split);
    let scale = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(|| {
            format!("duration '{text}' has unknown unit '{unit}'; use ns, us, ms, s, m or h")
        })?;
    let value: f64 = number
        .parse()
        .map_err(|_| format!("duration '{text}' does not start with a number"))?;
    if !value.is_finite() {
        return Err(format!("duration '{text}' is not a finite number"));
    }
    // Nanosecond units are exact integers; avoid the float round trip for them.
    if unit == "ns" && value.fract() == 0.0 && value < u64::MAX as f64 {
        return Ok(Duration::from_nanos(value as u64));
    }
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("duration '{text}' is too large"))
}

/// Formats a duration compactly with a unit chosen for readability (`1.000s`, `12.3ms`, `850us`).
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.3}s")
    } else if secs >= 1e-3 {
        format!("{:.1}ms", secs * 1e3)
    } else if secs >= 1e-6 {
        format!("{:.0}us", secs * 1e6)
    } else {
        format!("{}ns", duration.as_nanos())
    }
}

/// Formats a number of microseconds like [`format_duration`].
pub fn format_micros(micros: u64) -> String {
    format_duration(Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("20us"), Ok(Duration::from_micros(20)));
        assert_eq!(parse_duration("20µs"), Ok(Duration::from_micros(20)));
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration(" 1.5s "), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_bad_input_with_a_message() {
        for bad in [
            "",
            "10",
            "-1s",
            "abc",
            "1.2.3s",
            "10 parsecs",
            "1e400s",
            "s",
            "1sec",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(!err.contains('\n'), "one line: {err}");
            assert!(err.contains("duration"), "{err}");
        }
        assert!(parse_duration("99999999999999999999999h").is_err());
    }

    #[test]
    fn formats_with_a_readable_unit() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.500s");
        assert_eq!(format_duration(Duration::from_micros(12_300)), "12.3ms");
        assert_eq!(format_duration(Duration::from_micros(850)), "850us");
        assert_eq!(format_duration(Duration::from_nanos(40)), "40ns");
        assert_eq!(format_micros(2_000_000), "2.000s");
    }
}
