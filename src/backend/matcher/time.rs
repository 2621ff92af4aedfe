//! Timestamps: RFC 3339 / ISO 8601 text (and the `YYYY-MM-DD hh:mm:ss.fff`
//! form Sysmon writes) or epoch numbers, to milliseconds since the epoch.

use super::json::Leaf;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day number: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Parse `2024-01-02T03:04:05.678Z`, `+01:00` offsets, a space instead of
/// `T`, a date alone; milliseconds since the epoch.
pub fn parse_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let (y, mo, d) = (num(b, 0, 4)?, num(b, 5, 2)?, num(b, 8, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (h, mi, se) = (num(b, 11, 2)?, num(b, 14, 2)?, num(b, 17, 2)?);
    ms += (h * 3600 + mi * 60 + se) * 1000;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = &s[start..i];
        let take = frac.len().min(3);
        let mut f: i64 = frac[..take].parse().ok()?;
        for _ in take..3 {
            f *= 10;
        }
        ms += f;
    }
    match b.get(i) {
        None | Some(b'Z' | b'z') => Some(ms),
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(b, i + 1, 2)?;
            let om = if b.get(i + 3) == Some(&b':') {
                num(b, i + 4, 2)?
            } else {
                num(b, i + 3, 2).unwrap_or(0)
            };
            let off = (oh * 60 + om) * 60_000;
            Some(if *sign == b'+' { ms - off } else { ms + off })
        }
        _ => None,
    }
}

/// A leaf as a timestamp: text, or an epoch number (seconds below 1e11, else ms).
pub fn leaf_millis(l: &Leaf) -> Option<i64> {
    match l {
        Leaf::Str(s) => parse_millis(s).or_else(|| s.trim().parse::<f64>().ok().map(epoch)),
        Leaf::Num(t) => t.parse::<f64>().ok().map(epoch),
        _ => None,
    }
}

fn epoch(n: f64) -> i64 {
    if n.abs() < 1e11 {
        (n * 1000.0) as i64
    } else {
        n as i64
    }
}

/// Format milliseconds since the epoch as RFC 3339 (UTC, milliseconds).
pub fn format_millis(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_millis("2024-02-29T23:59:58.5+01:00").unwrap();
        assert_eq!(format_millis(ms), "2024-02-29T22:59:58.500Z");
        assert_eq!(parse_millis("1970-01-01"), Some(0));
        assert_eq!(
            parse_millis("2026-04-17 05:24:53.079")
                .map(format_millis)
                .as_deref(),
            Some("2026-04-17T05:24:53.079Z")
        );
        assert!(parse_millis("2024-13-01").is_none());
        assert_eq!(leaf_millis(&Leaf::Num("1")), Some(1000));
    }
}
