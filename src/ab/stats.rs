//! The statistics of an A/B experiment, pure and self-contained: medians and spreads, a
//! bootstrap confidence interval of the ratio of medians, the Mann-Whitney U test, Welch's
//! t-test, the special functions their p-values need, and the verdict rule.
//!
//! Everything is written here from the published formulas (each cited where it is used)
//! rather than taken from a crate: the whole is a few hundred lines, and a seeded generator of
//! our own keeps reports byte-identical for the same runs.

/// A small, fast, seeded generator: SplitMix64 (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014). Good enough for resampling and for a random
/// start; not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index in `0..n` (`0 < n < 2³²`), by Lemire's multiply-shift on the high 32
    /// bits (its bias, at most n / 2³², does not matter here).
    pub fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX).min(u64::from(u32::MAX));
        usize::try_from(((self.next_u64() >> 32) * n) >> 32).unwrap_or(0)
    }

    /// Shuffle in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// The `q` quantile of sorted values, interpolated linearly between order statistics
/// (Hyndman and Fan's type 7, numpy's default). `None` for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    #[allow(clippy::cast_precision_loss)]
    let h = q.clamp(0.0, 1.0) * last as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    #[allow(clippy::cast_precision_loss)]
    let frac = h - lo as f64;
    Some(sorted[lo] + frac * (sorted[hi] - sorted[lo]))
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

pub fn median(values: &[f64]) -> Option<f64> {
    quantile_sorted(&sorted(values), 0.5)
}

/// The median of values that may be reordered: a selection, not a sort (the bootstrap takes
/// tens of thousands of medians).
fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, &mut middle, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(middle);
    }
    let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(f64::midpoint(lower, middle))
}

/// A sample's center and spread.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    /// The median absolute deviation from the median (not scaled).
    pub mad: f64,
    /// The first and third quartiles.
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
}

/// Median, MAD, quartiles and range; `None` for no values.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let s = sorted(values);
    let median = quantile_sorted(&s, 0.5)?;
    let deviations: Vec<f64> = s.iter().map(|v| (v - median).abs()).collect();
    Some(Summary {
        n: s.len(),
        median,
        mad: median_of(&deviations),
        q1: quantile_sorted(&s, 0.25)?,
        q3: quantile_sorted(&s, 0.75)?,
        min: s[0],
        max: s[s.len() - 1],
    })
}

fn median_of(values: &[f64]) -> f64 {
    median(values).unwrap_or(f64::NAN)
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// The ratio of medians `treatment / control` and its percentile bootstrap interval at
/// `level` (e.g. 0.95): each group resampled with replacement `resamples` times, on its own
/// (Efron and Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13). `None` when a
/// group is empty or the control's median is not positive.
pub fn bootstrap_ratio(
    control: &[f64],
    treatment: &[f64],
    resamples: usize,
    level: f64,
    rng: &mut Rng,
) -> Option<(f64, Interval)> {
    let ratio = median(treatment)? / median(control)?;
    if !ratio.is_finite() {
        return None;
    }
    let mut ratios = Vec::with_capacity(resamples);
    let (mut a, mut b) = (vec![0.0; control.len()], vec![0.0; treatment.len()]);
    for _ in 0..resamples {
        for x in &mut a {
            *x = control[rng.below(control.len())];
        }
        for x in &mut b {
            *x = treatment[rng.below(treatment.len())];
        }
        let (ma, mb) = (median_in_place(&mut a)?, median_in_place(&mut b)?);
        if ma > 0.0 {
            ratios.push(mb / ma);
        }
    }
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    let low = quantile_sorted(&ratios, tail)?;
    let high = quantile_sorted(&ratios, 1.0 - tail)?;
    Some((ratio, Interval { low, high }))
}

/// The result of a two-sided test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Test {
    /// U for Mann-Whitney (of the treatment), t for Welch.
    pub statistic: f64,
    pub p_value: f64,
    /// Welch's degrees of freedom (Welch-Satterthwaite).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub df: Option<f64>,
    /// Mann-Whitney: whether the p-value is exact (small samples without ties) or from the
    /// normal approximation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exact: Option<bool>,
}

/// The largest total size for which the Mann-Whitney p-value is computed exactly.
const EXACT_LIMIT: usize = 60;

/// The Mann-Whitney U test, two-sided. U is the treatment's: the number of (control,
/// treatment) pairs where the treatment's value is the larger, ties counting one half.
///
/// Exact (the null distribution of U counted by dynamic programming over ranks) when there
/// are no ties and at most 60 values; otherwise the normal approximation with the tie
/// correction of the variance and a continuity correction, as scipy's `mannwhitneyu`
/// (`method="asymptotic"`):
/// `σ² = n₁n₂/12 · ((N+1) − Σ(t³−t) / (N(N−1)))`, `z = (|U − n₁n₂/2| − ½) / σ`.
/// `None` when a group is empty.
pub fn mann_whitney(control: &[f64], treatment: &[f64]) -> Option<Test> {
    let (n1, n2) = (control.len(), treatment.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    // Mid-ranks of the pooled sample.
    let mut pooled: Vec<(f64, bool)> =
        control.iter().map(|&v| (v, false)).chain(treatment.iter().map(|&v| (v, true))).collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pooled.len();
    let (mut rank_sum_t, mut tie_term, mut i) = (0.0, 0.0, 0);
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0.total_cmp(&pooled[i].0).is_eq() {
            j += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let (mid, t, ours) = (
            (i + j) as f64 / 2.0 + 1.0,
            (j - i + 1) as f64,
            pooled[i..=j].iter().filter(|p| p.1).count() as f64,
        );
        tie_term += t * t * t - t;
        rank_sum_t += mid * ours;
        i = j + 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let (f1, f2, fnn) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum_t - f2 * (f2 + 1.0) / 2.0;
    let mean = f1 * f2 / 2.0;
    if tie_term == 0.0 && n <= EXACT_LIMIT {
        let p = exact_mann_whitney_p(n2, n1, u);
        return Some(Test { statistic: u, p_value: p, df: None, exact: Some(true) });
    }
    let variance = f1 * f2 / 12.0 * ((fnn + 1.0) - tie_term / (fnn * (fnn - 1.0)));
    let p = if variance <= 0.0 {
        1.0
    } else {
        let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
        (2.0 * normal_sf(z)).min(1.0)
    };
    Some(Test { statistic: u, p_value: p, df: None, exact: Some(false) })
}

/// The exact two-sided p-value of U (of a group of `m` among `m + k` distinct values):
/// twice the smaller tail, at most 1. `counts[s]` is the number of ways `m` of the ranks
/// `1..=m+k` have U = s, built one rank at a time (the recurrence of Mann and Whitney, 1947).
fn exact_mann_whitney_p(m: usize, k: usize, u: f64) -> f64 {
    let max_u = m * k;
    // ways[j][s]: subsets of size j of the ranks seen so far whose U (rank sum minus
    // j(j+1)/2) is s. Adding rank r to a subset of size j adds r - (j + 1) to its U.
    let mut ways = vec![vec![0.0_f64; max_u + 1]; m + 1];
    ways[0][0] = 1.0;
    for r in 1..=m + k {
        for j in (1..=m.min(r)).rev() {
            let shift = r - j;
            if shift > max_u {
                continue;
            }
            for s in (shift..=max_u).rev() {
                let from = ways[j - 1][s - shift];
                if from != 0.0 {
                    ways[j][s] += from;
                }
            }
        }
    }
    let counts = &ways[m];
    let total: f64 = counts.iter().sum();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let u = u.round().max(0.0) as usize;
    let below: f64 = counts[..=u.min(max_u)].iter().sum();
    let above: f64 = counts[u.min(max_u)..].iter().sum();
    (2.0 * below.min(above) / total).min(1.0)
}

/// Welch's unequal-variances t-test, two-sided: `t = (x̄₂ − x̄₁) / √(s₁²/n₁ + s₂²/n₂)` with
/// the Welch-Satterthwaite degrees of freedom, the p-value from Student's t distribution.
/// `None` with fewer than two values in a group.
pub fn welch(control: &[f64], treatment: &[f64]) -> Option<Test> {
    let (n1, n2) = (control.len(), treatment.len());
    if n1 < 2 || n2 < 2 {
        return None;
    }
    let (m1, v1) = mean_variance(control);
    let (m2, v2) = mean_variance(treatment);
    #[allow(clippy::cast_precision_loss)]
    let (f1, f2) = (n1 as f64, n2 as f64);
    let (a, b) = (v1 / f1, v2 / f2);
    let se2 = a + b;
    if se2 <= 0.0 {
        // No spread at all: identical constants, or two different ones.
        let same = m1.total_cmp(&m2).is_eq();
        let p = if same { 1.0 } else { 0.0 };
        let t = if same { 0.0 } else { (m2 - m1).signum() * f64::INFINITY };
        return Some(Test { statistic: t, p_value: p, df: None, exact: None });
    }
    let t = (m2 - m1) / se2.sqrt();
    let df = se2 * se2 / (a * a / (f1 - 1.0) + b * b / (f2 - 1.0));
    Some(Test { statistic: t, p_value: student_t_two_sided(t, df), df: Some(df), exact: None })
}

/// Mean and unbiased variance.
fn mean_variance(values: &[f64]) -> (f64, f64) {
    #[allow(clippy::cast_precision_loss)]
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, ss / (n - 1.0))
}

/// `P(|T| ≥ |t|)` for Student's t with `df` degrees of freedom:
/// `I_{df/(df+t²)}(df/2, 1/2)` (Abramowitz and Stegun 26.7.1 with 26.5.27).
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    regularized_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// `ln Γ(x)` for `x > 0`: the recurrence `Γ(x) = Γ(x+1)/x` up to `x ≥ 10`, then Stirling's
/// series (DLMF 5.11.1) to the x⁻⁹ term; about 1e-13 relative error there.
pub fn ln_gamma(x: f64) -> f64 {
    let (mut x, mut shift) = (x, 0.0);
    while x < 10.0 {
        shift += x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli-number coefficients B₂ₖ / (2k(2k−1)): 1/12, −1/360, 1/1260, −1/1680, 1/1188.
    let series = inv
        * (1.0 / 12.0
            + inv2
                * (-1.0 / 360.0 + inv2 * (1.0 / 1260.0 + inv2 * (-1.0 / 1680.0 + inv2 / 1188.0))));
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

/// The regularized incomplete beta function `I_x(a, b)`, from its continued fraction
/// (DLMF 8.17.22):
/// `I_x(a,b) = x^a (1−x)^b / (a B(a,b)) · 1/(1+ d₁/(1+ d₂/(1+ …)))` with
/// `d₂ₘ₊₁ = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1))`, `d₂ₘ = m(b−m)x / ((a+2m−1)(a+2m))`,
/// which converges fast for `x < (a+1)/(a+b+2)`; above that, `I_x(a,b) = 1 − I_{1−x}(b,a)`.
/// The fraction is evaluated with the modified Lentz method (Thompson and Barnett, J. Comput.
/// Phys. 64, 1986).
pub fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_beta(1.0 - x, b, a);
    }
    let ln_front = a * x.ln() + b * (1.0 - x).ln() - (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
    let front = ln_front.exp() / a;
    // The fraction 1/(1+ d₁/(1+ d₂/(1+ …))), by modified Lentz: f = b₀ + a₁/(b₁ + a₂/(…))
    // with b₀ = 0, a₁ = 1 and then aₖ = dₖ₋₁, bₖ = 1.
    let d = |k: u32| -> f64 {
        let m = f64::from(k / 2);
        if k % 2 == 1 {
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
        } else {
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
        }
    };
    lentz(|k| if k == 1 { 1.0 } else { d(k - 1) }, |_| 1.0).map_or(f64::NAN, |f| front * f)
}

/// The value of `b₀ + a₁/(b₁ + a₂/(b₂ + …))` with `b₀ = 0`, by the modified Lentz method;
/// `None` when it does not converge in 10 000 terms.
fn lentz(numerator: impl Fn(u32) -> f64, denominator: impl Fn(u32) -> f64) -> Option<f64> {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let mut value = TINY;
    let (mut c, mut d) = (value, 0.0);
    for k in 1..10_000 {
        let (ak, bk) = (numerator(k), denominator(k));
        d = bk + ak * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = bk + ak / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        value *= delta;
        if (delta - 1.0).abs() < EPS {
            return Some(value);
        }
    }
    None
}

/// The regularized upper incomplete gamma function `Q(a, x)`: the series of `P = 1 − Q`
/// (DLMF 8.7.1: `γ*(a,x) = e⁻ˣ Σ xᵏ / Γ(a+k+1)`) below `x < a + 1`, else the continued
/// fraction of `Γ(a,x)` (DLMF 8.9.2, in its even contraction
/// `e⁻ˣxᵃ / (x+1−a− 1(1−a)/(x+3−a− 2(2−a)/(x+5−a− …)))`).
pub fn regularized_gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        return 1.0 - sum * ln_front.exp();
    }
    let fraction = lentz(
        |k| if k == 1 { 1.0 } else { -f64::from(k - 1) * (f64::from(k - 1) - a) },
        |k| x + f64::from(2 * k - 1) - a,
    );
    fraction.map_or(f64::NAN, |f| ln_front.exp() * f)
}

/// `P(Z ≥ z)` for a standard normal: `erfc(z/√2)/2`, with `erfc(y) = Q(½, y²)` for y ≥ 0.
pub fn normal_sf(z: f64) -> f64 {
    if z < 0.0 {
        return 1.0 - normal_sf(-z);
    }
    regularized_gamma_q(0.5, z * z / 2.0) / 2.0
}

/// z for a two-sided α of 0.05 and for a power of 0.8.
const Z_ALPHA: f64 = 1.959_963_984_540_054;
const Z_POWER: f64 = 0.841_621_233_572_914_1;

/// The runs per side a two-sided t-test at α = 0.05 needs to detect, with power 0.8, a
/// difference of `effect` between means of values with standard deviation `sd`:
/// `n = 2(z₀.₉₇₅ + z₀.₈)² / d² + z₀.₉₇₅² / 4` with `d = effect / sd` (the normal
/// approximation with Guenther's correction for the t distribution, Guenther 1981, "Sample
/// size formulas for normal theory t tests", The American Statistician 35(4)).
/// `None` when there is no effect or no spread to judge it by.
pub fn runs_needed(effect: f64, sd: f64) -> Option<u64> {
    if !(effect.abs() > 0.0 && sd > 0.0) {
        return None;
    }
    let d = effect.abs() / sd;
    let n = 2.0 * (Z_ALPHA + Z_POWER).powi(2) / (d * d) + Z_ALPHA * Z_ALPHA / 4.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(n.ceil().min(1e9) as u64)
}

/// The pooled standard deviation of two samples (with their own means).
pub fn pooled_sd(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (_, va) = mean_variance(a);
    let (_, vb) = mean_variance(b);
    #[allow(clippy::cast_precision_loss)]
    let (na, nb) = (a.len() as f64, b.len() as f64);
    Some((((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt())
}

pub fn mean(values: &[f64]) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1e-300)
    }

    #[test]
    fn special_functions_match_known_values() {
        // Γ(5) = 24, Γ(½) = √π, Γ(0.1) = 9.513507698668732.
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12));
        assert!(close(ln_gamma(0.1), 9.513_507_698_668_732f64.ln(), 1e-12));
        assert!(close(ln_gamma(171.5), 709.143_163_030_928_2, 1e-13));
        // scipy.special.betainc.
        assert!(close(regularized_beta(0.3, 2.0, 5.0), 0.579_825, 1e-12));
        assert!(close(regularized_beta(0.9, 0.5, 0.5), 0.795_167_235_300_866_6, 1e-12));
        assert!(close(regularized_beta(0.2, 15.0, 0.5), 5.252_095_298_744_004e-12, 1e-9));
        // scipy.stats.norm.sf, scipy.special.gammaincc.
        assert!(close(normal_sf(1.959_963_984_540_054), 0.025, 1e-12));
        assert!(close(normal_sf(0.5), 0.308_537_538_725_986_9, 1e-12));
        assert!(close(normal_sf(-1.0), 0.841_344_746_068_542_9, 1e-12));
        assert!(close(normal_sf(8.0), 6.220_960_574_271_74e-16, 1e-9));
        assert!(close(regularized_gamma_q(3.0, 2.0), 0.676_676_416_183_063_4, 1e-12));
        // scipy.stats.t.sf(|t|, df) * 2.
        assert!(close(student_t_two_sided(2.0, 5.0), 0.101_939_478_829_858_35, 1e-10));
        assert!(close(student_t_two_sided(-3.2, 17.3), 0.005_157_724_128_227_01, 1e-9));
        assert!(close(student_t_two_sided(0.0, 9.0), 1.0, 1e-15));
    }

    const A: [f64; 10] = [101.2, 98.7, 104.1, 99.9, 102.3, 97.8, 100.5, 103.9, 99.1, 100.8];
    const B: [f64; 10] = [71.4, 69.8, 73.2, 70.1, 72.5, 68.9, 70.7, 74.0, 70.2, 71.9];

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy.stats.mannwhitneyu(B, A) (U of the first sample), method="exact".
        let t = mann_whitney(&A, &B).unwrap();
        assert_eq!((t.statistic, t.exact), (0.0, Some(true)));
        assert!(close(t.p_value, 1.082_508_822_446_903e-5, 1e-9), "{t:?}");
        let x = [1.1, 2.2, 3.3, 4.4, 5.5, 6.6];
        let y = [3.0, 5.0, 7.0, 9.0, 10.0];
        let t = mann_whitney(&x, &y).unwrap();
        assert_eq!(t.statistic, 24.0);
        assert!(close(t.p_value, 0.125_541_125_541_125_53, 1e-12), "{t:?}");
        // Ties: method="asymptotic" (tie-corrected variance, continuity correction).
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0];
        let y = [2.0, 3.0, 4.0, 4.0, 6.0, 7.0, 7.0, 8.0];
        let t = mann_whitney(&x, &y).unwrap();
        assert_eq!((t.statistic, t.exact), (43.5, Some(false)));
        assert!(close(t.p_value, 0.078_195_114_292_281_64, 1e-10), "{t:?}");
        // More than 60 values: the normal approximation (method="asymptotic"); fewer, exact.
        let x: Vec<f64> =
            (0..35).map(|i| f64::from(i) * 1.7 % 13.0 + f64::from(i) * 0.01).collect();
        let y: Vec<f64> =
            (0..30).map(|i| f64::from(i) * 2.3 % 11.0 + f64::from(i) * 0.013 + 0.5).collect();
        let t = mann_whitney(&x, &y).unwrap();
        assert_eq!((t.statistic, t.exact), (508.0, Some(false)));
        assert!(close(t.p_value, 0.828_111_664_542_754_4, 1e-10), "{t:?}");
        let t = mann_whitney(&x[..9], &y[..8]).unwrap();
        assert_eq!((t.statistic, t.exact), (31.0, Some(true)));
        assert!(close(t.p_value, 0.672_974_084_738_790_6, 1e-12), "{t:?}");
    }

    #[test]
    fn welch_matches_scipy() {
        // scipy.stats.ttest_ind(B, A, equal_var=False) on the logs.
        let (la, lb): (Vec<f64>, Vec<f64>) =
            (A.iter().map(|v| v.ln()).collect(), B.iter().map(|v| v.ln()).collect());
        let t = welch(&la, &lb).unwrap();
        assert!(close(t.statistic, -35.561_354_146_167_95, 1e-10), "{t:?}");
        assert!(close(t.df.unwrap(), 17.873_250_183_743_938, 1e-10), "{t:?}");
        assert!(close(t.p_value, 4.869_529_026_877_989e-18, 1e-7), "{t:?}");
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [2.0, 4.0, 6.0, 9.0, 1.0];
        let t = welch(&x, &y).unwrap();
        assert!(close(t.statistic, 1.207_312_845_481_263_6, 1e-12), "{t:?}");
        assert!(close(t.p_value, 0.276_802_407_398_846_04, 1e-10), "{t:?}");
    }

    #[test]
    fn summaries_and_the_bootstrap_interval() {
        let s = summarize(&A).unwrap();
        assert_eq!((s.n, s.min, s.max), (10, 97.8, 104.1));
        assert!(close(s.median, 100.65, 1e-12) && close(s.mad, 1.6, 1e-12), "{s:?}");
        assert!(close(s.q1, 99.3, 1e-12) && close(s.q3, 102.025, 1e-12), "{s:?}");
        let mut rng = Rng::new(7);
        let (ratio, ci) = bootstrap_ratio(&A, &B, 2000, 0.95, &mut rng).unwrap();
        assert!(close(ratio, 71.05 / 100.65, 1e-12));
        assert!(ci.low < ratio && ratio < ci.high && ci.high < 0.75 && ci.low > 0.67, "{ci:?}");
        // Same seed, same interval.
        let again = bootstrap_ratio(&A, &B, 2000, 0.95, &mut Rng::new(7)).unwrap();
        assert_eq!(again.1, ci);
        for n in 1..8 {
            let mut v: Vec<f64> = (0..n).map(|i| f64::from((i * 7) % 5 + i)).collect();
            assert_eq!(median_in_place(&mut v.clone()), median(&v), "{v:?}");
            v.reverse();
            assert_eq!(median_in_place(&mut v), median(&v));
        }
    }

    #[test]
    fn runs_needed_grows_as_the_effect_shrinks() {
        // d = 0.5: 2 · 7.849 / 0.25 + 0.96 = 63.8 -> 64 (G*Power says 64).
        assert_eq!(runs_needed(0.5, 1.0), Some(64));
        assert_eq!(runs_needed(1.0, 1.0), Some(17));
        assert_eq!(runs_needed(0.0, 1.0), None);
    }

    #[test]
    fn the_generator_is_uniform_enough() {
        let mut rng = Rng::new(1);
        let mut counts = [0_u32; 10];
        for _ in 0..100_000 {
            counts[rng.below(10)] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
        let mut v: Vec<u32> = (0..20).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    }
}
