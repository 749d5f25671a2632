//! Running extraction on every core. Files are independent (extraction is pure), so they are
//! shared out to one worker per core; results keep the input order so output is the same
//! whatever the scheduling.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Deeply nested SQL recurses in the parser (bounded by its limit) and in the lineage walk:
/// each worker gets a stack that no legal input exhausts.
const WORKER_STACK: usize = 256 * 1024 * 1024;

/// How many workers: the cores available, at most the number of items.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// A worker could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("starting a worker thread")]
    Spawn(#[from] std::io::Error),
    #[error("a worker thread panicked")]
    Panicked,
}

/// `f` over `items` on `jobs` workers, results in input order.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, Error> {
    let next = AtomicUsize::new(0);
    let workers = jobs.clamp(1, items.len().max(1));
    let mut done: Vec<(usize, R)> =
        std::thread::scope(|scope| -> Result<Vec<(usize, R)>, Error> {
            let mut handles = Vec::new();
            for _ in 0..workers {
                let handle = std::thread::Builder::new().stack_size(WORKER_STACK).spawn_scoped(
                    scope,
                    || {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else { break };
                            out.push((i, f(item)));
                        }
                        out
                    },
                )?;
                handles.push(handle);
            }
            let mut all = Vec::new();
            for handle in handles {
                all.extend(handle.join().map_err(|_| Error::Panicked)?);
            }
            Ok(all)
        })?;
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_input_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out = super::map(&items, 4, |x| x * 2).unwrap();
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(super::map(&Vec::<u8>::new(), 4, |x| *x).unwrap().is_empty());
    }
}
