//! The pipeline's cost from its transformations' costs: the makespan of running the graph with
//! at most N at once, the total CPU time, and the peak memory of what runs together.
//!
//! The schedule is the one a runner like `dbt run --threads N` or an Airflow pool makes: a
//! transformation starts once everything it reads from has finished and a worker is free;
//! among the ready ones, the one with the longest path still ahead of it goes first (the
//! classic critical-path list scheduling, within a factor of two of the best schedule and
//! exact when workers are unlimited).

use std::cmp::Ordering;

/// One transformation to schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Wall time, in any unit (the schedule's times are in the same unit).
    pub duration: f64,
    /// CPU time.
    pub cpu: f64,
    /// Peak memory while it runs.
    pub memory: f64,
    /// The tasks (indices) that must finish before this one starts.
    pub after: Vec<usize>,
}

/// The schedule of a set of tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// From the first start to the last finish.
    pub makespan: f64,
    /// The longest chain of dependent tasks, first to last: no number of workers beats it.
    pub critical_path: Vec<usize>,
    /// Its length (the makespan with unlimited workers).
    pub critical_length: f64,
    pub cpu_total: f64,
    /// The largest sum of memory of tasks running at the same time.
    pub peak_memory: f64,
    /// When each task starts.
    pub start: Vec<f64>,
}

/// Schedules `tasks` on `workers` workers (0: as many as there are tasks). Dependencies on
/// unknown indices are ignored; a dependency cycle (which a correct pipeline cannot have, but
/// SQL like `INSERT INTO t SELECT … FROM t` across files can show) is broken at its
/// lowest-numbered task, which then waits only for what is outside the cycle.
pub fn schedule(tasks: &[Task], workers: usize) -> Schedule {
    let n = tasks.len();
    let workers = if workers == 0 { n.max(1) } else { workers };
    let order = order(tasks);
    let after = |i: usize| tasks[i].after.iter().copied().filter(move |&d| d < n && d != i);
    // Only edges that go forward in `order` count: that is how cycles are broken.
    let mut position = vec![0; n];
    for (p, &i) in order.iter().enumerate() {
        position[i] = p;
    }
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting = vec![0usize; n];
    for i in 0..n {
        for d in after(i).filter(|&d| position[d] < position[i]) {
            successors[d].push(i);
            waiting[i] += 1;
        }
    }
    // The longest path from each task to the end, its own duration included.
    let mut remaining = vec![0.0f64; n];
    let mut next_on_path: Vec<Option<usize>> = vec![None; n];
    for &i in order.iter().rev() {
        let best = successors[i]
            .iter()
            .copied()
            .max_by(|&a, &b| remaining[a].total_cmp(&remaining[b]).then(b.cmp(&a)));
        remaining[i] = duration(&tasks[i]) + best.map_or(0.0, |s| remaining[s]);
        next_on_path[i] = best;
    }
    let first = (0..n)
        .filter(|&i| waiting[i] == 0)
        .max_by(|&a, &b| remaining[a].total_cmp(&remaining[b]).then(b.cmp(&a)));
    let mut critical_path = Vec::new();
    let mut at = first;
    while let Some(i) = at {
        critical_path.push(i);
        at = next_on_path[i];
    }
    let critical_length = first.map_or(0.0, |i| remaining[i]);

    // The simulation: start what is ready by priority, then jump to the next finish.
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut running: Vec<(f64, usize)> = Vec::new();
    let mut start = vec![0.0; n];
    let (mut now, mut makespan, mut peak_memory) = (0.0f64, 0.0f64, 0.0f64);
    let mut done = 0;
    while done < n {
        ready.sort_by(|&a, &b| remaining[b].total_cmp(&remaining[a]).then(a.cmp(&b)));
        while running.len() < workers && !ready.is_empty() {
            let i = ready.remove(0);
            start[i] = now;
            running.push((now + duration(&tasks[i]), i));
        }
        let memory: f64 = running.iter().map(|&(_, i)| memory(&tasks[i])).sum();
        peak_memory = peak_memory.max(memory);
        let Some(k) = (0..running.len()).min_by(|&a, &b| {
            running[a].0.total_cmp(&running[b].0).then(running[a].1.cmp(&running[b].1))
        }) else {
            break;
        };
        let (finish, i) = running.swap_remove(k);
        now = finish;
        makespan = makespan.max(finish);
        done += 1;
        for &s in &successors[i] {
            waiting[s] -= 1;
            if waiting[s] == 0 {
                ready.push(s);
            }
        }
    }
    let cpu_total = tasks.iter().map(|t| finite(t.cpu)).sum();
    Schedule { makespan, critical_path, critical_length, cpu_total, peak_memory, start }
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

fn duration(task: &Task) -> f64 {
    finite(task.duration)
}

fn memory(task: &Task) -> f64 {
    finite(task.memory)
}

/// A topological order (Kahn's algorithm, lowest index first among the ready); when only
/// tasks in cycles remain, the lowest-numbered of them goes next.
fn order(tasks: &[Task]) -> Vec<usize> {
    let n = tasks.len();
    let mut indegree = vec![0usize; n];
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, task) in tasks.iter().enumerate() {
        let mut deps: Vec<usize> =
            task.after.iter().copied().filter(|&d| d < n && d != i).collect();
        deps.sort_unstable();
        deps.dedup();
        for d in deps {
            successors[d].push(i);
            indegree[i] += 1;
        }
    }
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&i| indegree[i] == 0).collect();
    while order.len() < n {
        let next = match ready.pop_first() {
            Some(i) => i,
            // Everything left waits on a cycle: break it at its lowest index.
            None => match (0..n).find(|&i| !placed[i]) {
                Some(i) => i,
                None => break,
            },
        };
        if placed[next] {
            continue;
        }
        placed[next] = true;
        order.push(next);
        for &s in &successors[next] {
            indegree[s] = indegree[s].saturating_sub(1);
            if indegree[s] == 0 && !placed[s] {
                ready.insert(s);
            }
        }
    }
    order
}

/// Compares two schedules' makespans as a relative change (`0.1` = 10 % longer).
pub fn relative_change(base: f64, head: f64) -> Option<f64> {
    match base.partial_cmp(&0.0) {
        Some(Ordering::Greater) => Some(head / base - 1.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(duration: f64, after: &[usize]) -> Task {
        Task { duration, cpu: duration, memory: 1.0, after: after.to_vec() }
    }

    #[test]
    fn a_chain_takes_the_sum_whatever_the_workers() {
        let tasks = [task(1.0, &[]), task(2.0, &[0]), task(3.0, &[1])];
        for workers in [1, 2, 0] {
            let s = schedule(&tasks, workers);
            assert!((s.makespan - 6.0).abs() < 1e-9);
            assert_eq!(s.critical_path, [0, 1, 2]);
            assert!((s.peak_memory - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn parallel_branches_fill_the_workers_longest_path_first() {
        // a -> {b (5), c (1), d (1), e (1)} -> f: with two workers, b runs beside c, d, e.
        let tasks = [
            task(1.0, &[]),
            task(5.0, &[0]),
            task(1.0, &[0]),
            task(1.0, &[0]),
            task(1.0, &[0]),
            task(1.0, &[1, 2, 3, 4]),
        ];
        let one = schedule(&tasks, 1);
        assert!((one.makespan - 10.0).abs() < 1e-9);
        let two = schedule(&tasks, 2);
        assert!((two.makespan - 7.0).abs() < 1e-9, "{two:?}");
        assert!((two.start[1] - 1.0).abs() < 1e-9, "the long branch starts first");
        assert!((two.peak_memory - 2.0).abs() < 1e-9);
        let all = schedule(&tasks, 0);
        assert!((all.makespan - 7.0).abs() < 1e-9);
        assert!((all.critical_length - 7.0).abs() < 1e-9);
        assert_eq!(all.critical_path, [0, 1, 5]);
        assert!((all.peak_memory - 4.0).abs() < 1e-9);
        assert!((all.cpu_total - 10.0).abs() < 1e-9);
    }

    #[test]
    fn cycles_and_bad_indices_do_not_hang() {
        let tasks = [task(1.0, &[1, 7]), task(1.0, &[0]), task(f64::NAN, &[1])];
        let s = schedule(&tasks, 1);
        assert!((s.makespan - 2.0).abs() < 1e-9, "{s:?}");
        assert!(schedule(&[], 4).makespan.abs() < 1e-12);
    }

    #[test]
    fn relative_changes() {
        assert_eq!(relative_change(10.0, 11.0).map(|c| (c * 100.0).round()), Some(10.0));
        assert_eq!(relative_change(0.0, 1.0), None);
    }
}
