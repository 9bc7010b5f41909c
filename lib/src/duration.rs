//! Durations with units (`500ms`, `30s`, `5m`, `1h30m`, `2d`); `DB_TIMEOUT`
//! also takes a bare number of milliseconds, as the provisioning runbook
//! defines it.

use std::time::Duration;

/// Parses a duration with units. A bare number is rejected: say what you mean.
/// Accepts `ms`, `s`, `m`, `h`, `d`, `w` and sequences such as `1m30s`.
pub fn parse(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: f64 = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("invalid duration {s:?}: expected a number"));
        }
        let n: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}: bad number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let ms = match unit {
            "ms" => 1.0,
            "s" | "sec" | "secs" => 1000.0,
            "m" | "min" | "mins" => 60_000.0,
            "h" | "hr" | "hour" | "hours" => 3_600_000.0,
            "d" | "day" | "days" => 86_400_000.0,
            "w" | "week" | "weeks" => 604_800_000.0,
            "" => {
                return Err(format!(
                    "invalid duration {s:?}: missing unit (use ms, s, m, h, d)"
                ))
            }
            u => return Err(format!("invalid duration {s:?}: unknown unit {u:?}")),
        };
        total += n * ms;
    }
    if !total.is_finite() || total > 1e15 {
        return Err(format!("invalid duration {s:?}: too large"));
    }
    Ok(Duration::from_micros((total * 1000.0).round() as u64))
}

/// Parses a bare number of milliseconds or a duration with units
/// (`DB_TIMEOUT=180000` and `DB_TIMEOUT=3m` mean the same).
pub fn parse_ms_or_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("invalid duration {s:?}: too large"));
    }
    parse(t)
}

/// Formats a duration compactly for messages (`1500ms`, `30s`).
pub fn format_ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse("30").is_err());
        assert!(parse("abc").is_err());
        assert!(parse("5 parsecs").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn bare_milliseconds() {
        assert_eq!(parse_ms_or_duration("300000"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_ms_or_duration("3m"), Ok(Duration::from_secs(180)));
        assert!(parse_ms_or_duration("-5").is_err());
    }
}
