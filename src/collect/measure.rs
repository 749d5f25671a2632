//! Run a process and measure it the way the operating system accounts for it: wall time, and
//! from `getrusage(RUSAGE_CHILDREN)` after the child was reaped, the user and system CPU time,
//! peak resident memory and blocks read and written of the child and every descendant it
//! waited for. Nothing is estimated.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::resource::{UsageWho, getrusage};

/// How a measured process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it.
    Signaled(i32),
}

impl Outcome {
    /// The exit code a shell would give: the code, or 128 + the signal.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Exited(code) => code,
            Outcome::Signaled(signal) => 128 + signal,
        }
    }
}

/// What one run cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    pub started_at: SystemTime,
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    pub max_rss_bytes: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub outcome: Outcome,
}

/// Why a process could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("cannot start `{program}`")]
    Spawn { program: String, source: std::io::Error },
    #[error("waiting for `{program}`")]
    Wait { program: String, source: std::io::Error },
    #[error("reading the resource usage of `{program}`")]
    Usage { program: String, source: nix::Error },
    #[error("no command to run")]
    Empty,
}

/// The signals a terminal or a CI runner sends to stop a job. While the child runs they are
/// caught (and so not fatal) here: the child gets them too and its end is recorded.
const STOP_SIGNALS: [i32; 4] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];

/// A 512-byte block: the unit of `ru_inblock` and `ru_oublock`.
const BLOCK: u64 = 512;

/// Run `command` (program and arguments) with this process's standard streams and environment
/// plus `env`, and measure it.
pub fn run(command: &[OsString], env: &[(&str, &OsStr)]) -> Result<Measured, MeasureError> {
    let (program, args) = command.split_first().ok_or(MeasureError::Empty)?;
    let name = program.to_string_lossy().into_owned();
    let caught = Arc::new(AtomicBool::new(false));
    for signal in STOP_SIGNALS {
        // Registration only fails for signals that cannot be caught; these can.
        let _ = signal_hook::flag::register(signal, Arc::clone(&caught));
    }
    let usage = |program: &str| {
        getrusage(UsageWho::RUSAGE_CHILDREN)
            .map_err(|source| MeasureError::Usage { program: program.to_string(), source })
    };
    let before = usage(&name)?;
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .spawn()
        .map_err(|source| MeasureError::Spawn { program: name.clone(), source })?;
    let status =
        child.wait().map_err(|source| MeasureError::Wait { program: name.clone(), source })?;
    let wall = clock.elapsed();
    let after = usage(&name)?;
    let outcome = match (status.code(), status.signal()) {
        (Some(code), _) => Outcome::Exited(code),
        (None, Some(signal)) => Outcome::Signaled(signal),
        (None, None) => Outcome::Exited(-1),
    };
    let time = |t: nix::sys::time::TimeVal| {
        let micros = u64::try_from(t.tv_sec()).unwrap_or(0) * 1_000_000
            + u64::try_from(t.tv_usec()).unwrap_or(0);
        Duration::from_micros(micros)
    };
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Measured {
        started_at,
        wall,
        user: time(after.user_time()).saturating_sub(time(before.user_time())),
        sys: time(after.system_time()).saturating_sub(time(before.system_time())),
        // Linux gives kilobytes, the largest child's peak.
        max_rss_bytes: count(after.max_rss()) * 1024,
        read_bytes: count(after.block_reads()).saturating_sub(count(before.block_reads())) * BLOCK,
        write_bytes: count(after.block_writes()).saturating_sub(count(before.block_writes()))
            * BLOCK,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<OsString> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn cpu_memory_and_exit_status_are_the_childs() {
        // Burn CPU and memory in a grandchild: the shell waits for it, so it counts.
        let m = run(&sh("x=$(head -c 30000000 /dev/zero | tr '\\0' a); n=0; while [ $n -lt 20000 ]; do n=$((n+1)); done; exit 3"), &[]).unwrap();
        assert_eq!(m.outcome, Outcome::Exited(3));
        assert!(m.user + m.sys > Duration::from_millis(10), "{m:?}");
        assert!(m.max_rss_bytes > 1_000_000, "{m:?}");
        assert!(m.wall >= m.user.max(m.sys) / 2, "{m:?}");
    }

    #[test]
    fn a_killed_command_is_measured_with_its_signal() {
        let m = run(&sh("kill -9 $$"), &[]).unwrap();
        assert_eq!(m.outcome, Outcome::Signaled(9));
        assert_eq!(m.outcome.exit_code(), 137);
        assert!(matches!(run(&["/no/such/program".into()], &[]), Err(MeasureError::Spawn { .. })));
    }
}
