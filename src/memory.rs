//! How much memory a computation may take on this machine, and allocation that reports failure
//! instead of aborting the process.
//!
//! Every analysis estimates its largest buffers before it allocates them and asks [`check`],
//! which also reserves that much once (fallibly) to learn whether the process can have it;
//! [`try_reserve`] is the fallible allocation itself, an error line instead of an abort
//! ("memory allocation of … bytes failed", exit 134).
//!
//! The budget rule: half of the memory the kernel reports as available (`MemAvailable` in
//! /proc/meminfo) when the computation starts. Half, because the estimate counts the largest
//! buffers, not every small one, and the rest of the process (the app's views, the trainer,
//! the allocator's slack) and the rest of the machine need room too. Where /proc/meminfo
//! cannot be read the budget is [`FALLBACK_BUDGET`]. The environment variable
//! `NNLAB_MEMORY_BUDGET` (bytes) replaces the rule: a lower limit on a shared machine, and the
//! tests use it to see a refusal without allocating gigabytes.

/// The budget when the available memory cannot be read (4 GiB).
pub const FALLBACK_BUDGET: u64 = 4 << 30;

/// Environment variable that sets the budget in bytes.
pub const BUDGET_VAR: &str = "NNLAB_MEMORY_BUDGET";

/// Bytes of `n` f64 values (saturating, so a product of huge shapes stays comparable).
pub fn f64s(n: usize) -> u64 {
    (n as u64).saturating_mul(8)
}

/// `MemAvailable` from /proc/meminfo, in bytes.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Where the budget comes from, for the refusal line.
fn budget_with_reason() -> (u64, &'static str) {
    if let Some(b) = std::env::var(BUDGET_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return (b, "the limit set by NNLAB_MEMORY_BUDGET");
    }
    match available() {
        Some(a) => (a / 2, "half of the memory available on this machine"),
        None => (
            FALLBACK_BUDGET,
            "the default limit (available memory unknown)",
        ),
    }
}

/// Bytes one computation may take now (see the module notes for the rule).
pub fn budget() -> u64 {
    budget_with_reason().0
}

/// `1.5 GB`, `80 GB`, `512 MB`, `3 KB`: decimal units, at most three significant digits.
pub fn format_bytes(b: u64) -> String {
    let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")];
    let x = b as f64;
    for (scale, unit) in units {
        if x >= scale {
            let v = x / scale;
            return if v >= 100.0 {
                format!("{v:.0} {unit}")
            } else if v >= 10.0 {
                format!("{v:.1} {unit}")
            } else {
                format!("{v:.2} {unit}")
            };
        }
    }
    format!("{b} bytes")
}

/// A number for a message: plain when it reads well (0.05, 400), else in e-notation
/// (1e300, 2.5e-9) instead of three hundred digits.
pub fn format_number(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-4..1e6).contains(&a) || !a.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Ok when `bytes` fit in the budget; otherwise one line naming what, the size it needs and
/// the limit, e.g. "the Lanczos basis needs about 80 GB of memory, more than the 11.2 GB
/// this run may use (half of the memory available on this machine)".
///
/// Within the budget, the bytes are also reserved once and given back (address space only, no
/// page is touched): where the process may not have them (`ulimit -v`, strict overcommit)
/// that is an error line here rather than an abort in the middle of the work.
pub fn check(what: &str, bytes: u64) -> Result<(), String> {
    let (limit, reason) = budget_with_reason();
    if bytes > limit {
        return Err(refusal(what, bytes, limit, reason));
    }
    let mut probe: Vec<u8> = Vec::new();
    try_reserve(
        &mut probe,
        usize::try_from(bytes).unwrap_or(usize::MAX),
        what,
    )
}

fn refusal(what: &str, bytes: u64, limit: u64, reason: &str) -> String {
    format!(
        "{what} needs about {} of memory, more than the {} this run may use ({reason})",
        format_bytes(bytes),
        format_bytes(limit)
    )
}

/// Reserve room for `additional` more elements, or an error line instead of an abort.
pub fn try_reserve<T>(v: &mut Vec<T>, additional: usize, what: &str) -> Result<(), String> {
    v.try_reserve_exact(additional).map_err(|_| {
        let bytes = (additional as u64).saturating_mul(std::mem::size_of::<T>() as u64);
        format!(
            "{what} needs about {} of memory, which this machine could not give",
            format_bytes(bytes)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_in_decimal_units() {
        assert_eq!(format_bytes(80_000_000_000), "80.0 GB");
        assert_eq!(format_bytes(512_000_000), "512 MB");
        assert_eq!(format_bytes(1_500), "1.50 KB");
        assert_eq!(format_bytes(7), "7 bytes");
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(format_number(1e300), "1e300");
        assert_eq!(format_number(0.05), "0.05");
        assert_eq!(format_number(2.5e-9), "2.5e-9");
        assert_eq!(format_number(400.0), "400");
    }

    #[test]
    fn the_refusal_names_the_need_and_the_limit() {
        let line = refusal("the Lanczos basis", 80_000_000_000, 1 << 30, "a test");
        assert_eq!(
            line,
            "the Lanczos basis needs about 80.0 GB of memory, more than the 1.07 GB this run may use (a test)"
        );
    }

    #[test]
    fn an_impossible_reservation_is_an_error_not_an_abort() {
        let mut v: Vec<f64> = Vec::new();
        let e = try_reserve(&mut v, usize::MAX / 8, "a test buffer").unwrap_err();
        assert!(e.starts_with("a test buffer needs about"), "{e}");
    }

    #[test]
    fn byte_counts_saturate() {
        assert_eq!(f64s(usize::MAX), u64::MAX);
        assert_eq!(f64s(3), 24);
    }
}
