//! Figures as a learner reads them, and as a learner types them: durations
//! and sizes on the command line, each kept within what makes sense for its
//! option, so that an absurd value is one line at once rather than a clock
//! that overflows or a run that never ends.

use std::time::Duration;

/// The longest any duration the workshop takes may be, whether a pause, a
/// silence, a hold or a whole load: an hour is already more than a
/// workshop needs. (The stages take a day: a server may run that long.)
pub const LONGEST: Duration = Duration::from_secs(60 * 60);

/// Formats a duration as a learner reads it: `0.31s`, `12ms`.
pub fn seconds(duration: Duration) -> String {
    if duration < Duration::from_millis(100) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.2}s", duration.as_secs_f64())
    }
}

/// `12.3 MiB` from a size in KiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `16.0 MiB` from a byte count.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 40 => format!("{:.1} TiB", b as f64 / (1u64 << 40) as f64),
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b => format!("{:.1} KiB", b as f64 / 1024.0),
    }
}

/// A value parser for a duration option (`300ms`, `2s`, `1m`), from `min`
/// to `max`.
pub fn duration_within(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let duration = humantime::parse_duration(text)
            .map_err(|err| format!("not a duration such as 300ms or 2s ({err})"))?;
        if duration < min || duration > max {
            return Err(format!(
                "must be from {} to {}",
                humantime::format_duration(min),
                humantime::format_duration(max)
            ));
        }
        Ok(duration)
    }
}

/// A value parser for a size option (`16MiB`), from `min` to `max` bytes.
/// The option must take values that start with `-` (`allow_hyphen_values`),
/// so that `-5` is said to be negative rather than an unknown flag.
pub fn size_within(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text| {
        let bytes = bytes_in(text)?;
        u64::try_from(bytes)
            .ok()
            .filter(|bytes| (min..=max).contains(bytes))
            .ok_or_else(|| format!("must be from {} to {}", exact(min), exact(max)))
    }
}

/// The bytes `16MiB`, `512KiB`, `1GiB` or a plain number stand for. A size
/// too large to count (`17179869184GiB` is 2^64 bytes, which a `u64`
/// multiplication wraps to 0; 60 nines do not even fit a `u128`) counts as
/// `u128::MAX`: above any bound, and said to be so.
fn bytes_in(text: &str) -> Result<u128, String> {
    if text.starts_with("--") {
        return Err(format!(
            "expected a size such as 16MiB, not the flag {text}"
        ));
    }
    if text.starts_with('-') {
        return Err("a size cannot be negative".to_string());
    }
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let scale: u128 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "TiB" | "T" => 1 << 40,
        other => return Err(format!("unknown unit {other:?}: use KiB, MiB, GiB or TiB")),
    };
    if number.is_empty() {
        return Err(format!("{text:?} is not a size such as 16MiB"));
    }
    // Only digits: parsing fails only when there are too many of them.
    let count = number.parse::<u128>().unwrap_or(u128::MAX);
    Ok(count.saturating_mul(scale))
}

/// A size in the largest binary unit that divides it: `1TiB`, `1KiB`, `3B`.
fn exact(bytes: u64) -> String {
    [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]
        .iter()
        .find(|&&(shift, _)| bytes >= 1 << shift && bytes % (1 << shift) == 0)
        .map_or(format!("{bytes}B"), |&(shift, unit)| {
            format!("{}{unit}", bytes >> shift)
        })
}

#[cfg(test)]
mod tests {
    use super::{bytes_in, duration_within, size, size_within};
    use std::time::Duration;

    /// `load flood -b 1TiB` says `1.0 TiB`, not `1024.0 GiB`.
    #[test]
    fn sizes_are_shown_in_the_largest_unit_up_to_tib() {
        assert_eq!(size(512), "0.5 KiB");
        assert_eq!(size(16 << 20), "16.0 MiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
        assert_eq!(size(1 << 40), "1.0 TiB");
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(bytes_in("512"), Ok(512));
        assert_eq!(bytes_in("64KiB"), Ok(64 * 1024));
        assert_eq!(bytes_in("16MiB"), Ok(16 << 20));
        assert_eq!(bytes_in("1GiB"), Ok(1 << 30));
        assert!(bytes_in("lots").is_err());
        assert!(bytes_in("3 parsecs").is_err());
        assert!(bytes_in("MiB").is_err());
        assert_eq!(bytes_in("-5"), Err("a size cannot be negative".to_string()));
    }

    #[test]
    fn a_size_too_large_to_count_is_an_error_not_a_wrapped_number() {
        let within = size_within(1, 1 << 40);
        assert_eq!(within("1TiB"), Ok(1 << 40));
        let digits = "9".repeat(60);
        let too_many = format!("{digits}TiB");
        for absurd in [
            "2TiB",
            "17179869184GiB",
            "18446744073709551616",
            "0",
            &digits,
            &too_many,
        ] {
            assert_eq!(
                within(absurd),
                Err("must be from 1B to 1TiB".to_string()),
                "{absurd}"
            );
        }
    }

    #[test]
    fn a_duration_outside_its_bounds_says_what_they_are() {
        let within = duration_within(Duration::from_millis(100), Duration::from_secs(60));
        assert_eq!(within("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(
            within("1000000000y"),
            Err("must be from 100ms to 1m".to_string())
        );
        assert_eq!(
            within("18446744073709551615s"),
            Err("must be from 100ms to 1m".to_string())
        );
        assert!(within("soon").unwrap_err().starts_with("not a duration"));
    }
}
