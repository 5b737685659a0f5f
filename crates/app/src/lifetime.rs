//! Key lifetimes as clients write them: `30d`, `12h`, `90m`, `45s`, `2w`, or an ISO 8601
//! duration such as `PT90M`, `P30D` or `P1DT12H`.
//!
//! Years and months are refused: their length depends on the calendar, and a key that
//! expires "in a month" should say how many days it means.

use chrono::Duration;

/// The longest lifetime accepted: ten years. Longer is "never", which is spelled by
/// leaving the lifetime out.
pub const MAX_LIFETIME_DAYS: i64 = 3650;

/// Why a lifetime was refused. Messages are for the client as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    #[error("expected a number and a unit (30d, 12h, 90m, 45s) or an ISO 8601 duration (PT90M)")]
    Syntax,
    #[error("ISO 8601 years and months are not accepted; give days instead (P30D)")]
    CalendarUnit,
    #[error("must be greater than zero")]
    Zero,
    #[error("must be at most {MAX_LIFETIME_DAYS} days")]
    TooLong,
}

/// Parses a lifetime.
///
/// ```
/// use chrono::Duration;
/// use roster_app::lifetime::parse_lifetime;
///
/// assert_eq!(parse_lifetime("30d"), Ok(Duration::days(30)));
/// assert_eq!(parse_lifetime("PT90M"), Ok(Duration::minutes(90)));
/// assert_eq!(parse_lifetime("P1DT12H"), Ok(Duration::hours(36)));
/// assert!(parse_lifetime("soon").is_err());
/// ```
///
/// # Errors
/// See [`LifetimeError`].
pub fn parse_lifetime(text: &str) -> Result<Duration, LifetimeError> {
    let seconds = if let Some(iso) = text.strip_prefix('P') {
        iso_seconds(iso)?
    } else {
        let (number, unit) = split_number(text).ok_or(LifetimeError::Syntax)?;
        scaled(number, unit_seconds(unit).ok_or(LifetimeError::Syntax)?)?
    };
    if seconds == 0 {
        return Err(LifetimeError::Zero);
    }
    if seconds > MAX_LIFETIME_DAYS * 86_400 {
        return Err(LifetimeError::TooLong);
    }
    Ok(Duration::seconds(seconds))
}

fn unit_seconds(unit: &str) -> Option<i64> {
    match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        "w" => Some(7 * 86_400),
        _ => None,
    }
}

/// Leading ASCII digits and the rest; `None` without digits.
fn split_number(text: &str) -> Option<(&str, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| text.split_at(digits))
}

/// `number * unit`, refusing overflow (reported as too long).
fn scaled(number: &str, unit: i64) -> Result<i64, LifetimeError> {
    // More than 12 digits is over the maximum in any unit; refusing early keeps parse cheap.
    if number.len() > 12 {
        return Err(LifetimeError::TooLong);
    }
    let value: i64 = number.parse().map_err(|_| LifetimeError::Syntax)?;
    value.checked_mul(unit).ok_or(LifetimeError::TooLong)
}

/// The part after `P`: `[nW][nD][T[nH][nM][nS]]`, at least one component, units in order.
fn iso_seconds(iso: &str) -> Result<i64, LifetimeError> {
    let (date, time) = match iso.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return Err(LifetimeError::Syntax),
        None => (iso, None),
    };
    let mut total = components(date, &[('W', 7 * 86_400), ('D', 86_400)], &['Y', 'M'])?;
    if let Some(time) = time {
        total = total
            .checked_add(components(time, &[('H', 3600), ('M', 60), ('S', 1)], &[])?)
            .ok_or(LifetimeError::TooLong)?;
    } else if date.is_empty() {
        return Err(LifetimeError::Syntax);
    }
    Ok(total)
}

/// Sums `<digits><unit>` components whose units appear in `units` in that order.
fn components(
    mut text: &str,
    units: &[(char, i64)],
    calendar: &[char],
) -> Result<i64, LifetimeError> {
    let mut total: i64 = 0;
    let mut next_unit = 0;
    while !text.is_empty() {
        let (number, rest) = split_number(text).ok_or(LifetimeError::Syntax)?;
        let unit = rest.chars().next().ok_or(LifetimeError::Syntax)?;
        if calendar.contains(&unit) {
            return Err(LifetimeError::CalendarUnit);
        }
        let position = units[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or(LifetimeError::Syntax)?;
        let (_, seconds) = units[next_unit + position];
        next_unit += position + 1;
        total = total
            .checked_add(scaled(number, seconds)?)
            .ok_or(LifetimeError::TooLong)?;
        text = &rest[unit.len_utf8()..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        for (text, seconds) in [
            ("45s", 45),
            ("90m", 5400),
            ("12h", 43_200),
            ("30d", 2_592_000),
            ("2w", 1_209_600),
            ("3650d", 315_360_000),
        ] {
            assert_eq!(
                parse_lifetime(text),
                Ok(Duration::seconds(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn iso_8601_forms() {
        for (text, seconds) in [
            ("PT90M", 5400),
            ("PT45S", 45),
            ("PT12H", 43_200),
            ("P30D", 2_592_000),
            ("P1W", 604_800),
            ("P1DT12H", 129_600),
            ("P1DT1H1M1S", 90_061),
        ] {
            assert_eq!(
                parse_lifetime(text),
                Ok(Duration::seconds(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn refusals() {
        for (text, error) in [
            ("", LifetimeError::Syntax),
            ("d", LifetimeError::Syntax),
            ("30", LifetimeError::Syntax),
            ("30 d", LifetimeError::Syntax),
            ("30D", LifetimeError::Syntax),
            ("-5m", LifetimeError::Syntax),
            ("1.5h", LifetimeError::Syntax),
            ("30dd", LifetimeError::Syntax),
            ("5y", LifetimeError::Syntax),
            ("P", LifetimeError::Syntax),
            ("PT", LifetimeError::Syntax),
            ("P1H", LifetimeError::Syntax),
            ("PT1D", LifetimeError::Syntax),
            ("PT1M1H", LifetimeError::Syntax),
            ("PT1H1H", LifetimeError::Syntax),
            ("pt90m", LifetimeError::Syntax),
            ("P1Y", LifetimeError::CalendarUnit),
            ("P1M", LifetimeError::CalendarUnit),
            ("0s", LifetimeError::Zero),
            ("PT0S", LifetimeError::Zero),
            ("3651d", LifetimeError::TooLong),
            ("99999999999999999999s", LifetimeError::TooLong),
            ("P9999999999W", LifetimeError::TooLong),
        ] {
            assert_eq!(parse_lifetime(text), Err(error), "{text:?}");
        }
    }
}
