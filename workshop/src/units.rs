//! Figures as a learner reads them.

use std::time::Duration;

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

/// `16 MiB` from a byte count.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b => format!("{:.1} KiB", b as f64 / 1024.0),
    }
}
