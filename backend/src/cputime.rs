//! CPU time as the kernel accounts it: a whole process's from `/proc/<pid>/stat` (utime +
//! stime, every thread, living or exited) and the calling thread's from its CPU clock.
//!
//! The measuring commands (`wallboard loadtest`, `wallboard simulate --server-pid`) read it
//! before and after a phase and divide by what the phase delivered, so a figure is "CPU per
//! delivery" whatever else the machine runs: wall time on a shared 2-core machine says more
//! about the neighbours than about the code. Linux only. Imports nothing of the crate.

use std::time::Duration;

/// Why a process's CPU time could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CpuTimeError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} does not hold utime and stime where a stat line does: {line:?}")]
    Malformed { path: String, line: String },
}

/// utime + stime, in clock ticks, of one `/proc/<pid>/stat` line (fields 14 and 15).
///
/// The second field, the command name in parentheses, may itself hold spaces and `)`, so
/// the fields are counted from the *last* `)`.
pub fn stat_ticks(line: &str) -> Option<u64> {
    let rest = &line[line.rfind(')')? + 1..];
    // After the name: state (3), ppid (4), … utime (14), stime (15).
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

/// `ticks` clock ticks as a duration, at `per_sec` ticks a second (`USER_HZ`, 100 on Linux).
pub fn ticks_to_duration(ticks: u64, per_sec: u64) -> Duration {
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(per_sec.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The CPU time process `pid` has used so far (10 ms resolution: `USER_HZ`).
pub fn process(pid: u32) -> Result<Duration, CpuTimeError> {
    read_stat(&format!("/proc/{pid}/stat"))
}

/// The CPU time this process has used so far.
pub fn this_process() -> Result<Duration, CpuTimeError> {
    read_stat("/proc/self/stat")
}

/// The resident memory of process `pid` (`None`: this one), in KiB: `VmRSS` of its
/// `/proc/…/status`, which the kernel states in KiB whatever the page size. `None` when the
/// process is gone or the line is missing.
pub fn resident_kib(pid: Option<u32>) -> Option<u64> {
    let path = pid.map_or_else(|| "/proc/self/status".to_owned(), |p| format!("/proc/{p}/status"));
    let status = std::fs::read_to_string(path).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// The CPU time the calling thread has used so far (nanosecond resolution). Both this and
/// [`process`] count the kernel's `sum_exec_runtime`, so their figures compare.
pub fn this_thread() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

fn read_stat(path: &str) -> Result<Duration, CpuTimeError> {
    let line = std::fs::read_to_string(path).map_err(|source| CpuTimeError::Read { path: path.to_owned(), source })?;
    let ticks =
        stat_ticks(&line).ok_or_else(|| CpuTimeError::Malformed { path: path.to_owned(), line: line.clone() })?;
    Ok(ticks_to_duration(ticks, rustix::param::clock_ticks_per_second()))
}

/// Microseconds of CPU per item between two readings; NaN when there was no item.
pub fn micros_per(before: Duration, after: Duration, items: u64) -> f64 {
    if items == 0 {
        return f64::NAN;
    }
    after.saturating_sub(before).as_secs_f64() * 1e6 / items as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line of a `wallboard` server (`cat /proc/<pid>/stat`), utime 1234, stime 567.
    const LINE: &str = "4242 (wallboard) S 4100 4242 4100 34816 4242 4194560 18310 0 2 0 1234 567 0 0 20 0 \
                        6 0 3052771 1240510464 15532 18446744073709551615 1 1 0 0 0 0 0 4096 17475 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn utime_and_stime_are_fields_14_and_15() {
        assert_eq!(stat_ticks(LINE), Some(1234 + 567));
    }

    #[test]
    fn a_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let odd = LINE.replace("(wallboard)", "(tokio (rt) 2)");
        assert_eq!(stat_ticks(&odd), Some(1801));
    }

    #[test]
    fn a_truncated_or_garbled_line_is_none() {
        assert_eq!(stat_ticks("4242 (wallboard) S 4100 4242"), None);
        assert_eq!(stat_ticks("no parenthesis here 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"), None);
        assert_eq!(stat_ticks(&LINE.replace(" 1234 ", " 12x4 ")), None);
    }

    #[test]
    fn ticks_convert_at_user_hz() {
        // 1801 ticks at 100 Hz: 18.01 s.
        assert_eq!(ticks_to_duration(1801, 100), Duration::from_millis(18_010));
        assert_eq!(ticks_to_duration(3, 1024), Duration::from_nanos(2_929_687));
    }

    #[test]
    fn micros_per_item_is_the_difference_over_the_count() {
        // 4.26 s of CPU over 200,000 deliveries: 21.3 µs each.
        let (before, after) = (Duration::from_millis(1_000), Duration::from_millis(5_260));
        assert!((micros_per(before, after, 200_000) - 21.3).abs() < 1e-9);
        assert!(micros_per(before, after, 0).is_nan());
        // A clock never runs backwards, but a misordered pair is 0, not a wrap.
        assert_eq!(micros_per(after, before, 10), 0.0);
    }

    #[test]
    fn this_process_and_thread_read_the_running_test() {
        let (p0, t0) = (this_process().expect("/proc/self/stat"), this_thread());
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let (p1, t1) = (this_process().expect("/proc/self/stat"), this_thread());
        assert!(t1 > t0, "the thread's clock advanced while it spun");
        assert!(p1 >= p0);
        assert!(process(std::process::id()).is_ok());
        assert!(matches!(process(u32::MAX), Err(CpuTimeError::Read { .. })));
    }

    #[test]
    fn resident_memory_of_this_process_and_of_none() {
        let own = resident_kib(None).expect("this process has a VmRSS");
        assert!(own > 0);
        assert!(resident_kib(Some(std::process::id())).is_some_and(|kib| kib > 0));
        assert_eq!(resident_kib(Some(u32::MAX)), None, "no such process");
    }
}
