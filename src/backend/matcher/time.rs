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

/// Add calendar months to a time (day of month clamped).
fn add_months(ms: i64, n: i64) -> i64 {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + n;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let last = days_from_civil(
        if nm == 12 { ny + 1 } else { ny },
        if nm == 12 { 1 } else { nm + 1 },
        1,
    ) - days_from_civil(ny, nm, 1);
    days_from_civil(ny, nm, d.min(last)) * 86_400_000 + rem
}

enum Unit {
    Ms(i64),
    Months(i64),
    /// Snap to a weekday (0 = Sunday).
    Weekday(i64),
}

fn unit(u: &str) -> Option<Unit> {
    Some(match u {
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Ms(1000),
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Ms(60_000),
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Ms(3_600_000),
        "d" | "day" | "days" => Unit::Ms(86_400_000),
        "w" | "week" | "weeks" => Unit::Ms(7 * 86_400_000),
        "mon" | "month" | "months" => Unit::Months(1),
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => Unit::Months(3),
        "y" | "yr" | "yrs" | "year" | "years" => Unit::Months(12),
        _ => {
            let n: i64 = u.strip_prefix('w')?.parse().ok()?;
            Unit::Weekday(n % 7)
        }
    })
}

/// SPL `relative_time(t, spec)` (UTC): offsets like `-1d`, `+3h`, `-2mon`
/// and snaps like `@d`, `@w1`, `@mon`, applied left to right; `now` is `t`.
pub fn relative_millis(t: i64, spec: &str) -> Option<i64> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "now" {
        return Some(t);
    }
    let b = spec.as_bytes();
    let mut i = 0;
    let mut t = t;
    while i < b.len() {
        let snap = b[i] == b'@';
        let mut sign = 1;
        if snap {
            i += 1;
        } else if b[i] == b'+' || b[i] == b'-' {
            sign = if b[i] == b'-' { -1 } else { 1 };
            i += 1;
        } else {
            return None;
        }
        let ns = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n: i64 = if ns == i {
            1
        } else {
            spec[ns..i].parse().ok()?
        };
        let us = i;
        while i < b.len()
            && b[i].is_ascii_alphanumeric()
            && !(i > us && b[i].is_ascii_digit() && !spec[us..i].starts_with('w'))
        {
            i += 1;
        }
        let u = unit(&spec[us..i])?;
        t = match (snap, u) {
            (false, Unit::Ms(ms)) => t + sign * n * ms,
            (false, Unit::Months(m)) => add_months(t, sign * n * m),
            (false, Unit::Weekday(_)) => return None,
            (true, Unit::Ms(ms)) if ms == 7 * 86_400_000 => snap_weekday(t, 0),
            (true, Unit::Ms(ms)) => t.div_euclid(ms) * ms,
            (true, Unit::Weekday(w)) => snap_weekday(t, w),
            (true, Unit::Months(m)) => {
                let (y, mo, _) = civil_from_days(t.div_euclid(86_400_000));
                let mo = if m == 12 { 1 } else { (mo - 1) / m * m + 1 };
                days_from_civil(y, mo, 1) * 86_400_000
            }
        };
    }
    Some(t)
}

fn snap_weekday(t: i64, w: i64) -> i64 {
    let days = t.div_euclid(86_400_000);
    let wd = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday; Sunday = 0
    (days - (wd - w).rem_euclid(7)) * 86_400_000
}

/// SPL `strftime` (UTC) for the common conversions.
pub fn strftime(ms: i64, fmt: &str) -> String {
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAY: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, frac) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('Y') => out += &format!("{y:04}"),
            Some('y') => out += &format!("{:02}", y.rem_euclid(100)),
            Some('m') => out += &format!("{m:02}"),
            Some('d') => out += &format!("{d:02}"),
            Some('e') => out += &format!("{d:2}"),
            Some('H') => out += &format!("{h:02}"),
            Some('I') => out += &format!("{:02}", if h % 12 == 0 { 12 } else { h % 12 }),
            Some('p') => out += if h < 12 { "AM" } else { "PM" },
            Some('M') => out += &format!("{mi:02}"),
            Some('S') => out += &format!("{s:02}"),
            Some('T') => out += &format!("{h:02}:{mi:02}:{s:02}"),
            Some('F') => out += &format!("{y:04}-{m:02}-{d:02}"),
            Some('b') => out += MON[(m - 1) as usize],
            Some('a') => out += DAY[(days + 4).rem_euclid(7) as usize],
            Some('j') => out += &format!("{:03}", days - days_from_civil(y, 1, 1) + 1),
            Some('s') => out += &ms.div_euclid(1000).to_string(),
            Some('z') => out += "+0000",
            Some('Z') => out += "UTC",
            Some('Q') => out += &format!("{frac:03}"),
            Some('3') if it.peek() == Some(&'N') => {
                it.next();
                out += &format!("{frac:03}");
            }
            Some('N') => out += &format!("{frac:03}"),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
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

    #[test]
    fn relative_time_and_strftime() {
        let t = parse_millis("2026-05-20T13:45:10Z").unwrap();
        let f = |s: &str| relative_millis(t, s).map(format_millis);
        assert_eq!(f("@d").as_deref(), Some("2026-05-20T00:00:00.000Z"));
        assert_eq!(f("-1d@d").as_deref(), Some("2026-05-19T00:00:00.000Z"));
        assert_eq!(f("+3h").as_deref(), Some("2026-05-20T16:45:10.000Z"));
        assert_eq!(f("-1mon@mon").as_deref(), Some("2026-04-01T00:00:00.000Z"));
        // 2026-05-20 is a Wednesday: @w1 is Monday the 18th, @w0 Sunday the 17th.
        assert_eq!(f("@w1").as_deref(), Some("2026-05-18T00:00:00.000Z"));
        assert_eq!(f("@w").as_deref(), Some("2026-05-17T00:00:00.000Z"));
        assert_eq!(f("@y").as_deref(), Some("2026-01-01T00:00:00.000Z"));
        assert_eq!(f("now"), Some(format_millis(t)));
        assert!(f("-1x").is_none());
        assert_eq!(strftime(t, "%Y-%m-%dT%H:%M:%S"), "2026-05-20T13:45:10");
        assert_eq!(strftime(t, "%a %b %e %j"), "Wed May 20 140");
    }
}
