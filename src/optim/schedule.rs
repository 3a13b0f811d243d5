//! Learning-rate schedules η(t).

use super::spec::Schedule;

/// η at optimiser step `t` (the number of steps taken before the one about to be made):
///
/// * `Constant`: η.
/// * `Step { every, gamma }`: η·γ^⌊t/every⌋.
/// * `Exponential { gamma }`: η·γ^t.
/// * `Cosine { period, min_lr }`: η_min + ½(η − η_min)(1 + cos(π·min(t, P)/P)), so η at t = 0,
///   (η + η_min)/2 at t = P/2 and η_min from t = P on.
///
/// `every = 0` and `period = 0` are rejected by [`validate`](super::validate); here they are
/// treated as 1 so that this function never divides by zero.
pub fn scheduled_lr(base: f64, schedule: &Schedule, t: u64) -> f64 {
    match *schedule {
        Schedule::Constant => base,
        Schedule::Step { every, gamma } => {
            let k = t / every.max(1);
            base * gamma.powf(k as f64)
        }
        Schedule::Exponential { gamma } => base * gamma.powf(t as f64),
        Schedule::Cosine { period, min_lr } => {
            let period = period.max(1);
            let frac = t.min(period) as f64 / period as f64;
            min_lr + 0.5 * (base - min_lr) * (1.0 + (std::f64::consts::PI * frac).cos())
        }
    }
}
