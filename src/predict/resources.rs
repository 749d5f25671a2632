//! What to request for each transformation, from what its runs used: memory at the 95th
//! percentile of peak RSS with headroom, CPUs at the 95th percentile of CPU time over wall
//! time; what a run costs at the configured prices; and which requests are far above use.

use serde::Serialize;

use super::features::{History, Pipeline};
use super::model::quantile;
use crate::config::Resources;

/// How many of a transformation's latest runs count.
const RECENT: usize = 20;
/// Memory asked above the 95th percentile of what runs used.
const HEADROOM: f64 = 1.25;
/// Requests are rounded up to this much memory and this share of a CPU.
const MEMORY_STEP: f64 = 64.0 * 1024.0 * 1024.0;
const CPU_STEP: f64 = 0.25;
/// A request this many times the recommendation is over-provisioned.
const OVER: f64 = 2.0;

const GB: f64 = 1e9;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    pub id: String,
    pub runs: usize,
    /// Median wall time of the runs, ms.
    pub wall_ms: f64,
    pub memory_p95_bytes: Option<f64>,
    /// What to request: p95 with headroom, rounded up.
    pub memory_request_bytes: Option<f64>,
    pub cpu_share_p95: Option<f64>,
    pub cpus: f64,
    /// A run's cost at the recommended request and the configured prices.
    pub cost_per_run: Option<f64>,
    /// Why today's request (`[resources]`) is far above use, and what a run would save.
    pub over_provisioned: Option<String>,
}

/// One allocation per transformation of `pipeline` that has runs.
pub fn allocations(pipeline: &Pipeline, history: &History, config: &Resources) -> Vec<Allocation> {
    pipeline
        .nodes
        .iter()
        .filter_map(|node| {
            let past = history.before(&node.key, i64::MAX);
            let recent = &past[past.len().saturating_sub(RECENT)..];
            if recent.is_empty() {
                return None;
            }
            let memory: Vec<f64> = recent.iter().filter_map(|r| r.memory_bytes).collect();
            let shares: Vec<f64> = recent
                .iter()
                .filter_map(|r| r.cpu_ms.map(|cpu| cpu / r.wall_ms.max(1e-3)))
                .collect();
            let walls: Vec<f64> = recent.iter().map(|r| r.wall_ms).collect();
            let wall_ms = quantile(&walls, 0.5)?;
            let memory_p95 = quantile(&memory, 0.95);
            let memory_request =
                memory_p95.map(|m| (m * HEADROOM / MEMORY_STEP).ceil() * MEMORY_STEP);
            let cpu_p95 = quantile(&shares, 0.95);
            let cpus = cpu_p95.map_or(1.0, |c| ((c / CPU_STEP).ceil() * CPU_STEP).max(CPU_STEP));
            let price = |cpus: f64, memory_bytes: f64| {
                if config.cpu_hour.is_none() && config.gb_hour.is_none() {
                    return None;
                }
                let hours = wall_ms / 3_600_000.0;
                Some(
                    hours
                        * (cpus * config.cpu_hour.unwrap_or(0.0)
                            + memory_bytes / GB * config.gb_hour.unwrap_or(0.0)),
                )
            };
            let cost_per_run = memory_request.and_then(|m| price(cpus, m));
            let requested = config.requested(&node.file, &node.id);
            let over_provisioned = over(requested, memory_request, cpus).map(|why| {
                let asked = price(
                    requested.1.unwrap_or(cpus),
                    requested.0.map_or(memory_request.unwrap_or(0.0), |g| g * GB),
                );
                match (asked, cost_per_run) {
                    (Some(a), Some(c)) => {
                        format!("{why}; {} a run instead of {}", price_text(c), price_text(a))
                    }
                    _ => why,
                }
            });
            Some(Allocation {
                id: node.id.clone(),
                runs: recent.len(),
                wall_ms,
                memory_p95_bytes: memory_p95,
                memory_request_bytes: memory_request,
                cpu_share_p95: cpu_p95,
                cpus,
                cost_per_run,
                over_provisioned,
            })
        })
        .collect()
}

/// A price with two significant digits (runs cost fractions of a cent).
pub fn price_text(price: f64) -> String {
    if !price.is_finite() || price <= 0.0 {
        return "0".to_string();
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a small digit count"
    )]
    let decimals = (1.0 - price.log10().floor()).max(2.0) as usize;
    format!("{price:.decimals$}")
}

/// Why a request (memory GB, CPUs) is over-provisioned, if it is.
fn over(
    (memory_gb, requested_cpus): (Option<f64>, Option<f64>),
    memory_request: Option<f64>,
    cpus: f64,
) -> Option<String> {
    let mut why = Vec::new();
    if let (Some(asked), Some(need)) = (memory_gb, memory_request)
        && asked * GB >= OVER * need
    {
        why.push(format!("requests {asked} GB of memory, {:.2} GB is enough", need / GB));
    }
    if let Some(asked) = requested_cpus
        && asked >= OVER * cpus
    {
        why.push(format!("requests {asked} CPUs, {cpus} are enough"));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};
    use crate::predict::features::{PastRun, code_shape, key};

    #[test]
    fn requests_follow_the_runs_and_flag_what_is_far_above() {
        let fragment =
            extract("a.sql", b"CREATE TABLE raw.a AS SELECT x FROM src.a", &Settings::default());
        let t = fragment.transformations[0].clone();
        let pipeline = Pipeline::new(&[fragment], |_| "blob".into());
        let runs = (0..10)
            .map(|k| PastRun {
                key: key("a.sql", &t),
                code: "blob".into(),
                at: k,
                wall_ms: 60_000.0,
                cpu_ms: Some(30_000.0 + 1000.0 * f64::from(u8::try_from(k).unwrap_or(0))),
                memory_bytes: Some(400e6),
                rows_in: None,
                rows_out: None,
                shape: code_shape(&t),
            })
            .collect();
        let history = History::new(runs);
        let config = Resources {
            cpu_hour: Some(0.04),
            gb_hour: Some(0.005),
            requested_memory_gb: Some(4.0),
            requested_cpus: Some(2.0),
            requests: std::collections::BTreeMap::new(),
        };
        let all = allocations(&pipeline, &history, &config);
        let [a] = all.as_slice() else { panic!("one allocation") };
        assert_eq!(a.runs, 10);
        // 400 MB × 1.25 = 500 MB, rounded up to 64 MiB steps: 536.9 MB.
        assert!((a.memory_request_bytes.unwrap() - 8.0 * MEMORY_STEP).abs() < 1.0, "{a:?}");
        assert!((a.cpus - 0.75).abs() < 1e-9, "{a:?}");
        let why = a.over_provisioned.as_deref().unwrap();
        assert!(why.contains("requests 4 GB") && why.contains("requests 2 CPUs"), "{why}");
        assert!(a.cost_per_run.unwrap() > 0.0);
        assert_eq!(price_text(0.000_012_34), "0.000012");
        assert_eq!(price_text(3.456), "3.46");
        let nothing_asked = Resources::default();
        assert!(allocations(&pipeline, &history, &nothing_asked)[0].over_provisioned.is_none());
        // A transformation's own request wins over the default: 0.5 GB and 1 CPU fit.
        let own = crate::config::Request { memory_gb: Some(0.5), cpus: Some(1.0) };
        let config = Resources { requests: [("a.sql".to_string(), own)].into(), ..config };
        assert!(allocations(&pipeline, &history, &config)[0].over_provisioned.is_none());
    }
}
