//! Progress of a long command on standard error: a bar redrawn in place on a terminal, a line
//! a second in a log (CI, a redirected run), so that both stay readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    what: &'static str,
    /// What is counted, plural.
    unit: &'static str,
    total: usize,
    started: Instant,
    last: Option<Instant>,
    terminal: bool,
}

const BAR: usize = 30;

impl Progress {
    pub fn new(what: &'static str, unit: &'static str, total: usize) -> Self {
        Progress {
            what,
            unit,
            total,
            started: Instant::now(),
            last: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// `done` of the total are done.
    pub fn update(&mut self, done: usize) {
        let every = if self.terminal { Duration::from_millis(100) } else { Duration::from_secs(1) };
        if done < self.total && self.last.is_some_and(|l| l.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let line = self.line(done);
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be written is not worth failing the command for.
        let _ = if self.terminal {
            write!(err, "\r{line}\x1b[K{}", if done >= self.total { "\n" } else { "" })
        } else {
            writeln!(err, "{line}")
        };
    }

    fn line(&self, done: usize) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let eta = if done == 0 {
            String::from("?")
        } else {
            format!("{:.0} s", elapsed / done as f64 * (self.total - done.min(self.total)) as f64)
        };
        let filled = (done * BAR).checked_div(self.total).unwrap_or(BAR).min(BAR);
        format!(
            "{}: [{}{}] {done}/{} {}, {elapsed:.1} s, eta {eta}",
            self.what,
            "#".repeat(filled),
            "-".repeat(BAR - filled),
            self.total,
            self.unit,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_bar_the_count_and_the_eta() {
        let progress = Progress { terminal: false, ..Progress::new("backfill", "commits", 10) };
        let line = progress.line(5);
        assert!(
            line.starts_with("backfill: [###############---------------] 5/10 commits"),
            "{line}"
        );
        assert!(line.ends_with(" s"), "{line}");
        assert!(progress.line(0).ends_with("eta ?"));
    }
}
