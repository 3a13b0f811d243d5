//! The edge of stability, per optimiser (Cohen et al. 2021, 2022).
//!
//! On a quadratic with Hessian H, an update rule with a frozen state is a linear iteration;
//! along an eigenvector of eigenvalue λ it is stable exactly while λ stays below a threshold
//! that depends on the rule. With a = ηλ:
//!
//! * gd, sgd: θ ← θ − ηg, factor 1 − a: stable iff a < 2, so **λ_max(H) < 2/η**.
//! * momentum (this project's heavy ball, v ← μv + g; θ ← θ − ηv): θ_{k+1} = (1 + μ − a)θ_k
//!   − μθ_{k−1}, characteristic z² − (1 + μ − a)z + μ; by the Jury conditions stable iff
//!   a < 2 + 2μ, so **λ_max(H) < (2 + 2μ)/η**.
//! * nesterov (PyTorch form, v ← μv + g; θ ← θ − η(g + μv)): in (θ, ηv) the matrix is
//!   [[1 − a(1+μ), −μ²], [a, μ]], trace 1 + μ − a(1+μ), determinant μ(1 − a); the Jury
//!   condition 1 + trace + det > 0 gives a < (2 + 2μ)/(1 + 2μ), so
//!   **λ_max(H) < (2 + 2μ)/((1 + 2μ)η)** (≈ 1.36/η at μ = 0.9: a *lower* edge than plain
//!   GD's 2/η).
//! * rmsprop, adagrad: with P = diag(√s + ε) frozen, θ ← θ − ηP⁻¹g is GD on P⁻¹H, so
//!   **λ_max(P⁻¹H) < 2/η** (the preconditioned sharpness; P⁻¹H is similar to the symmetric
//!   P^(−1/2) H P^(−1/2), so its eigenvalues are real).
//! * adam: with P = diag(√v̂ + ε) frozen (v̂ the bias-corrected second moment) the update is
//!   an exponential moving average of the gradient, m ← β₁m + (1−β₁)g, θ ← θ − ηP⁻¹m; its
//!   characteristic z² − (1 + β₁ − (1−β₁)a)z + β₁ is stable iff a < (2 + 2β₁)/(1 − β₁), so
//!   **λ_max(P⁻¹H) < (2 + 2β₁)/((1 − β₁)η)** (38/η at β₁ = 0.9).
//! * perceptron, feedback alignment (and any rule other than back-propagation): the update is
//!   not the gradient of the objective, so the Hessian says nothing about its stability: no
//!   threshold.
//!
//! Gradient clipping bounds the step: a clipped run cannot blow up geometrically, so the
//! threshold then tells only where the *unclipped* iteration would turn unstable (`Edge::note`).
//!
//! Progressive sharpening: under GD at a fixed η the sharpness grows until it reaches 2/η,
//! then hovers there ([`Sharpening`] summarises a recorded series).

use serde::Serialize;

use super::hessian::{HessianOperator, HessianProblem, lanczos_bytes};
use super::spectrum::{SymmetricOperator, extreme_eigenpairs_split};
use crate::optim::Optimizer;
use crate::optim::spec::{OptimizerKind, OptimizerSpec, TrainingRule};

/// Which sharpness the threshold applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// λ_max(H), the top eigenvalue of the objective's Hessian.
    Sharpness,
    /// λ_max(P⁻¹H) with P the optimiser's diagonal preconditioner.
    Preconditioned,
}

impl Quantity {
    /// The quantity as a formula (the same in every language).
    pub fn formula(self) -> &'static str {
        match self {
            Quantity::Sharpness => "λ_max(H)",
            Quantity::Preconditioned => "λ_max(P^−1·H)",
        }
    }
}

/// Why an optimiser has no stability threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoThreshold {
    /// The update is not the gradient of the objective (perceptron, feedback alignment).
    NotGradient,
}

/// The stability threshold of an update rule at a learning rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edge {
    /// The sharpness the threshold applies to.
    pub quantity: Quantity,
    /// The value the quantity must stay below; None when the rule has no simple threshold.
    pub threshold: Option<f64>,
    /// The threshold as a formula in η and the rule's hyper-parameters, e.g. "(2+2μ)/η".
    pub formula: &'static str,
    /// Set when there is no threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub none: Option<NoThreshold>,
    /// Gradient clipping is on: the threshold describes the unclipped iteration only.
    pub clipped: bool,
}

/// The threshold of the update rule `spec` at learning rate `lr` (the scheduled η in force).
pub fn edge(spec: &OptimizerSpec, lr: f64) -> Edge {
    let clipped = spec.clip_norm.is_some() || spec.clip_value.is_some();
    let make = |quantity, threshold: f64, formula| Edge {
        quantity,
        threshold: Some(threshold),
        formula,
        none: None,
        clipped,
    };
    if spec.effective_rule() != TrainingRule::Backprop {
        return Edge {
            quantity: Quantity::Sharpness,
            threshold: None,
            formula: "",
            none: Some(NoThreshold::NotGradient),
            clipped,
        };
    }
    let mu = spec.momentum;
    let b1 = spec.beta1;
    match spec.kind {
        OptimizerKind::Gd | OptimizerKind::Sgd => make(Quantity::Sharpness, 2.0 / lr, "2/η"),
        OptimizerKind::Momentum => make(Quantity::Sharpness, (2.0 + 2.0 * mu) / lr, "(2+2μ)/η"),
        OptimizerKind::Nesterov => make(
            Quantity::Sharpness,
            (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * lr),
            "(2+2μ)/((1+2μ)η)",
        ),
        OptimizerKind::Rmsprop | OptimizerKind::Adagrad => {
            make(Quantity::Preconditioned, 2.0 / lr, "2/η")
        }
        OptimizerKind::Adam => make(
            Quantity::Preconditioned,
            (2.0 + 2.0 * b1) / ((1.0 - b1) * lr),
            "(2+2β₁)/((1−β₁)η)",
        ),
        // effective_rule() is not Backprop for these; kept for an exhaustive match.
        OptimizerKind::Perceptron | OptimizerKind::FeedbackAlignment => Edge {
            quantity: Quantity::Sharpness,
            threshold: None,
            formula: "",
            none: Some(NoThreshold::NotGradient),
            clipped,
        },
    }
}

/// The diagonal preconditioner P the optimiser's next step divides by (√s + ε for
/// AdaGrad/RMSprop, √v̂ + ε for Adam), or None when the rule is not preconditioned or its
/// second moment holds no step yet (at t = 0 Adam's v̂ is undefined).
pub fn preconditioner(opt: &Optimizer) -> Option<Vec<f64>> {
    let s = opt.spec();
    let (_, second) = opt.state_vectors();
    if second.is_empty() || opt.state_steps() == 0 {
        return None;
    }
    match s.kind {
        OptimizerKind::Adagrad | OptimizerKind::Rmsprop => {
            Some(second.iter().map(|v| v.sqrt() + s.eps).collect())
        }
        OptimizerKind::Adam => {
            let bc2 = 1.0 - s.beta2.powf(opt.state_steps() as f64);
            Some(second.iter().map(|v| (v / bc2).sqrt() + s.eps).collect())
        }
        _ => None,
    }
}

/// v ↦ D H D with D = diag(P^(−1/2)): symmetric, with the eigenvalues of P⁻¹H.
pub struct PreconditionedOperator<'a> {
    /// H as an operator (it counts the products).
    pub hessian: HessianOperator<'a>,
    /// P^(−1/2).
    scale: Vec<f64>,
    buf: Vec<f64>,
}

impl<'a> PreconditionedOperator<'a> {
    /// `p`: the diagonal of P (positive, θ's length).
    pub fn new(problem: HessianProblem<'a>, p: &[f64]) -> Self {
        PreconditionedOperator {
            hessian: HessianOperator::new(problem),
            scale: p.iter().map(|x| 1.0 / x.sqrt()).collect(),
            buf: vec![0.0; p.len()],
        }
    }
}

impl SymmetricOperator for PreconditionedOperator<'_> {
    fn dim(&self) -> usize {
        self.scale.len()
    }
    fn apply(&mut self, v: &[f64], out: &mut [f64]) {
        for ((b, x), d) in self.buf.iter_mut().zip(v).zip(&self.scale) {
            *b = x * d;
        }
        self.hessian.apply(&self.buf, out);
        for (o, d) in out.iter_mut().zip(&self.scale) {
            *o *= d;
        }
    }
}

/// What the edge needs from the optimiser at a θ sample: its rule and, for the preconditioned
/// rules, its preconditioner at that step (the app's training worker takes it with θ).
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerSnapshot {
    /// The update rule and its hyper-parameters.
    pub spec: OptimizerSpec,
    /// The diagonal of P at that step (Adam, RMSprop, AdaGrad); None for the other rules or
    /// before the first step.
    pub preconditioner: Option<Vec<f64>>,
}

impl OptimizerSnapshot {
    /// The optimiser's rule and current preconditioner.
    pub fn of(opt: &Optimizer) -> Self {
        OptimizerSnapshot {
            spec: opt.spec().clone(),
            preconditioner: preconditioner(opt),
        }
    }
}

/// The edge at one analysed step, as the Curvature tile shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Readout {
    /// The threshold and what it applies to.
    pub edge: Edge,
    /// The quantity the threshold applies to: λ_max (the tile's own) or λ_max(P⁻¹H); None
    /// before a preconditioned rule's first step.
    pub value: Option<f64>,
}

/// The readout for a sample: `lambda_max` is the tile's λ_max of H at θ, used as is when the
/// rule's quantity is the plain sharpness; λ_max(P⁻¹H) is computed otherwise.
pub fn readout(
    problem: HessianProblem,
    opt: &OptimizerSnapshot,
    lr: f64,
    lambda_max: f64,
    seed: u64,
) -> Result<Readout, String> {
    let edge = edge(&opt.spec, lr);
    let value = match (edge.quantity, &opt.preconditioner) {
        _ if edge.threshold.is_none() => None,
        (Quantity::Sharpness, _) => Some(lambda_max),
        (Quantity::Preconditioned, Some(p)) => Some(sharpness(problem, Some(p), seed)?),
        (Quantity::Preconditioned, None) => None,
    };
    Ok(Readout { edge, value })
}

/// Lanczos products at most for one sharpness.
pub const SHARPNESS_STEPS: usize = 200;
/// Relative residual of the top Ritz pair.
pub const SHARPNESS_TOL: f64 = 1e-9;

/// λ_max(H), or λ_max(P⁻¹H) when `precond` (the diagonal of P) is given, by Lanczos on H or on
/// P^(−1/2) H P^(−1/2) (products only; memory checked first).
pub fn sharpness(
    problem: HessianProblem,
    precond: Option<&[f64]>,
    seed: u64,
) -> Result<f64, String> {
    let p = problem.net.n_params;
    if problem.theta.len() != p {
        return Err(format!(
            "θ has {} values but the network has {p} parameters",
            problem.theta.len()
        ));
    }
    if let Some(d) = precond {
        if d.len() != p {
            return Err(format!(
                "the preconditioner has {} values but the network has {p} parameters",
                d.len()
            ));
        }
        if d.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err("the preconditioner has a value that is not positive and finite".into());
        }
    }
    crate::memory::check(
        &format!("the sharpness of {p} parameters"),
        lanczos_bytes(problem, 1, SHARPNESS_STEPS),
    )?;
    let steps = SHARPNESS_STEPS.min(p);
    let (_, top) = match precond {
        None => {
            let mut op = HessianOperator::new(problem);
            extreme_eigenpairs_split(&mut op, 1, 0, steps, SHARPNESS_TOL, seed)
        }
        Some(d) => {
            let mut op = PreconditionedOperator::new(problem, d);
            extreme_eigenpairs_split(&mut op, 1, 0, steps, SHARPNESS_TOL, seed)
        }
    };
    top.first()
        .map(|r| r.value)
        .filter(|v| v.is_finite())
        .ok_or_else(|| "the sharpness is not finite (θ diverged?)".to_string())
}

/// The sharpness the optimiser's threshold applies to, at its current state, with the edge at
/// learning rate `lr`. Adam/RMSprop/AdaGrad before their first step have no preconditioner
/// yet: the value is then None (the edge is still returned).
pub fn measure(
    problem: HessianProblem,
    opt: &Optimizer,
    lr: f64,
    seed: u64,
) -> Result<(Option<f64>, Edge), String> {
    let e = edge(opt.spec(), lr);
    let value = match e.quantity {
        Quantity::Sharpness => Some(sharpness(problem, None, seed)?),
        Quantity::Preconditioned => match preconditioner(opt) {
            Some(p) => Some(sharpness(problem, Some(&p), seed)?),
            None => None,
        },
    };
    Ok((value, e))
}

/// A recorded value counts as at the edge from this fraction of the threshold on (samples are
/// discrete, and the sharpness approaches the edge from below).
pub const REACH: f64 = 0.95;

/// How a recorded sharpness series met its threshold.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sharpening {
    /// The first recorded step where value ≥ [`REACH`]·threshold.
    pub first_reached: Option<u64>,
    /// Records from that step on.
    pub records_after: usize,
    /// The mean value/threshold over those records.
    pub mean_ratio: f64,
    /// The smallest value/threshold.
    pub min_ratio: f64,
    /// The largest value/threshold.
    pub max_ratio: f64,
    /// Mean |value/threshold − 1| over those records: how closely it hovers.
    pub mean_deviation: f64,
    /// value/threshold at the first record.
    pub start_ratio: f64,
}

/// Summarise a series of (step, value, threshold) records (equal lengths; records without a
/// value or threshold are skipped). Ratios are NaN when the edge was never reached.
pub fn sharpening(steps: &[u64], values: &[Option<f64>], thresholds: &[Option<f64>]) -> Sharpening {
    let ratios: Vec<(u64, f64)> = steps
        .iter()
        .zip(values.iter().zip(thresholds))
        .filter_map(|(&s, (v, t))| match (v, t) {
            (Some(v), Some(t)) if *t > 0.0 => Some((s, v / t)),
            _ => None,
        })
        .collect();
    let start_ratio = ratios.first().map_or(f64::NAN, |r| r.1);
    let Some(first) = ratios.iter().position(|r| r.1 >= REACH) else {
        return Sharpening {
            first_reached: None,
            records_after: 0,
            mean_ratio: f64::NAN,
            min_ratio: f64::NAN,
            max_ratio: f64::NAN,
            mean_deviation: f64::NAN,
            start_ratio,
        };
    };
    let after: Vec<f64> = ratios[first..].iter().map(|r| r.1).collect();
    let n = after.len() as f64;
    Sharpening {
        first_reached: Some(ratios[first].0),
        records_after: after.len(),
        mean_ratio: after.iter().sum::<f64>() / n,
        min_ratio: after.iter().copied().fold(f64::INFINITY, f64::min),
        max_ratio: after.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean_deviation: after.iter().map(|r| (r - 1.0).abs()).sum::<f64>() / n,
        start_ratio,
    }
}

/// A sharpness series recorded along training (the CLI's and the lessons' recorder).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EdgeSeries {
    /// The recorded steps.
    pub steps: Vec<u64>,
    /// The sharpness at each (None before a preconditioned rule's first step).
    pub values: Vec<Option<f64>>,
    /// The threshold at each (None where the rule has none).
    pub thresholds: Vec<Option<f64>>,
    /// The learning rate in force at each record.
    pub lrs: Vec<f64>,
}

impl EdgeSeries {
    /// Measure and append one record (see [`measure`]).
    pub fn observe(
        &mut self,
        step: u64,
        problem: HessianProblem,
        opt: &Optimizer,
        seed: u64,
    ) -> Result<Edge, String> {
        let lr = opt.learning_rate();
        let (value, e) = measure(problem, opt, lr, seed)?;
        self.steps.push(step);
        self.values.push(value);
        self.thresholds.push(e.threshold);
        self.lrs.push(lr);
        Ok(e)
    }

    /// How the series met its threshold.
    pub fn summary(&self) -> Sharpening {
        sharpening(&self.steps, &self.values, &self.thresholds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::hessian::dense_hessian;
    use crate::analysis::spectrum::dense_eigen;
    use crate::data::Dataset;
    use crate::net::spec::{Init, LayerSpec, Loss, NetworkSpec};
    use crate::net::{Activation, Network, Rows};

    /// Run the project's optimiser on J = ½ λ θ² (one parameter, g = λθ) for `steps` steps
    /// from θ₀: (largest |θ|/θ₀ along the run, |θ|/θ₀ at the end).
    fn run_quadratic(spec: &OptimizerSpec, lambda: f64, theta0: f64, steps: usize) -> (f64, f64) {
        let mut opt = Optimizer::new(spec, 1);
        let mut theta = [theta0];
        let mut largest = 1.0f64;
        for _ in 0..steps {
            let mut g = [lambda * theta[0]];
            opt.step(&mut theta, &mut g);
            largest = largest.max(theta[0].abs() / theta0);
        }
        (largest, theta[0].abs() / theta0)
    }

    fn spec(kind: OptimizerKind, lr: f64) -> OptimizerSpec {
        OptimizerSpec::new(kind, lr, 1)
    }

    /// The threshold is exactly where the project's update rule turns unstable: 2 % below it
    /// the iterate shrinks a million-fold, 2 % above it grows a million-fold. λ is the
    /// threshold × `scale` (the preconditioner's value for preconditioned rules), θ₀ small
    /// enough that the gradient stays far below ε there.
    fn assert_edge(spec: &OptimizerSpec, scale: f64, theta0: f64) {
        let t = edge(spec, spec.lr).threshold.unwrap();
        let (_, below) = run_quadratic(spec, 0.98 * t * scale, theta0, 4000);
        let (above, _) = run_quadratic(spec, 1.02 * t * scale, theta0, 4000);
        assert!(
            below < 1e-6,
            "{:?}: 0.98 × edge ends at |θ|/θ₀ = {below}",
            spec.kind
        );
        assert!(
            above > 1e6,
            "{:?}: 1.02 × edge reaches |θ|/θ₀ = {above}",
            spec.kind
        );
    }

    #[test]
    fn gd_diverges_just_above_two_over_eta() {
        let s = spec(OptimizerKind::Gd, 0.1);
        assert_eq!(edge(&s, 0.1).threshold, Some(20.0));
        assert_eq!(edge(&s, 0.1).formula, "2/η");
        assert_edge(&s, 1.0, 1.0);
    }

    #[test]
    fn heavy_ball_diverges_just_above_two_plus_two_mu_over_eta() {
        for mu in [0.5, 0.9] {
            let mut s = spec(OptimizerKind::Momentum, 0.05);
            s.momentum = mu;
            let t = edge(&s, 0.05).threshold.unwrap();
            assert!((t - (2.0 + 2.0 * mu) / 0.05).abs() < 1e-9);
            assert_edge(&s, 1.0, 1.0);
        }
    }

    #[test]
    fn nesterov_diverges_just_above_its_lower_edge() {
        for mu in [0.5, 0.9] {
            let mut s = spec(OptimizerKind::Nesterov, 0.05);
            s.momentum = mu;
            let t = edge(&s, 0.05).threshold.unwrap();
            assert!((t - (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * 0.05)).abs() < 1e-9);
            // Below plain GD's edge: at 2/η (more than 1.02 × its edge) Nesterov diverges.
            assert!(t < 2.0 / 0.05);
            assert_edge(&s, 1.0, 1.0);
        }
    }

    /// With ε far above every √s the preconditioner is ε (to 1e-4), so λ/ε is the
    /// preconditioned sharpness: the project's RMSprop, AdaGrad and Adam turn unstable where
    /// the frozen-preconditioner thresholds say. θ₀ = 1e-12 keeps |g| = λ|θ| ≤ 1e-3·ε until
    /// the iterate has grown a million-fold.
    #[test]
    fn preconditioned_rules_diverge_just_above_their_edges() {
        let eps = 1.0;
        for kind in [
            OptimizerKind::Rmsprop,
            OptimizerKind::Adagrad,
            OptimizerKind::Adam,
        ] {
            let mut s = spec(kind, 0.01);
            s.eps = eps;
            assert_eq!(edge(&s, 0.01).quantity, Quantity::Preconditioned);
            assert_edge(&s, eps, 1e-12);
        }
        let adam = spec(OptimizerKind::Adam, 0.01);
        assert!((edge(&adam, 0.01).threshold.unwrap() - 3800.0).abs() < 1e-9);
    }

    #[test]
    fn rules_that_are_not_gradients_have_no_threshold() {
        for kind in [OptimizerKind::Perceptron, OptimizerKind::FeedbackAlignment] {
            let e = edge(&spec(kind, 0.1), 0.1);
            assert_eq!(
                (e.threshold, e.none),
                (None, Some(NoThreshold::NotGradient))
            );
        }
        let mut s = spec(OptimizerKind::Sgd, 0.1);
        s.rule = TrainingRule::FeedbackAlignment;
        assert_eq!(edge(&s, 0.1).threshold, None);
        s.rule = TrainingRule::Backprop;
        s.clip_norm = Some(1.0);
        assert!(edge(&s, 0.1).clipped);
    }

    fn small_net() -> (Network, Vec<f64>, Dataset) {
        let spec = NetworkSpec::new(
            2,
            vec![
                LayerSpec::new(5, Activation::Tanh),
                LayerSpec::new(1, Activation::Identity),
            ],
        );
        let net = Network::build(&spec, Loss::Mse).unwrap();
        let theta = crate::net::init::initialise(&net, Init::XavierNormal, 1.0, 5);
        let mut rng = crate::rng::Rng::new(11);
        let x: Vec<f64> = (0..40).map(|_| rng.normal()).collect();
        let y: Vec<f64> = (0..20)
            .map(|i| (x[2 * i] * 2.0).sin() + x[2 * i + 1])
            .collect();
        let train = Dataset {
            inputs: 2,
            x,
            y,
            task: crate::data::spec::Task::Regression,
            classes: 0,
        };
        (net, theta, train)
    }

    /// λ_max(P⁻¹H) by Lanczos on products against the dense P^(−1/2) H P^(−1/2).
    #[test]
    fn preconditioned_sharpness_matches_the_dense_matrix() {
        let (net, theta, train) = small_net();
        let problem = HessianProblem {
            net: &net,
            theta: &theta,
            rows: Rows {
                x: &train.x,
                y: &train.y,
                classes: 0,
            },
            l2: 0.01,
            gauss_newton: false,
        };
        let p = net.n_params;
        let mut rng = crate::rng::Rng::new(3);
        let diag: Vec<f64> = (0..p).map(|_| 0.01 + rng.uniform()).collect();
        let h = dense_hessian(problem);
        let mut m = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                m[i * p + j] = h[i * p + j] / (diag[i].sqrt() * diag[j].sqrt());
            }
        }
        let (eigs, _) = dense_eigen(p, &m, false).unwrap();
        let want = *eigs.last().unwrap();
        let got = sharpness(problem, Some(&diag), 1).unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "Lanczos {got} vs dense {want}"
        );
        // And without P, the plain top eigenvalue of H.
        let (eh, _) = dense_eigen(p, &h, false).unwrap();
        let plain = sharpness(problem, None, 1).unwrap();
        assert!((plain - eh[p - 1]).abs() <= 1e-9 * eh[p - 1].abs());
        // A wrong length or a non-positive entry is refused.
        assert!(sharpness(problem, Some(&diag[1..]), 1).is_err());
        let mut bad = diag.clone();
        bad[0] = 0.0;
        assert!(sharpness(problem, Some(&bad), 1).is_err());
    }

    /// Adam's preconditioner is √(v/(1 − β₂ᵏ)) + ε of its own state.
    #[test]
    fn adam_preconditioner_is_its_bias_corrected_second_moment() {
        let s = spec(OptimizerKind::Adam, 0.01);
        let mut opt = Optimizer::new(&s, 2);
        assert_eq!(preconditioner(&opt), None);
        let mut theta = [1.0, -2.0];
        let g1 = [0.3, -0.4];
        let g2 = [0.1, 0.2];
        opt.step(&mut theta, &mut g1.clone());
        opt.step(&mut theta, &mut g2.clone());
        let p = preconditioner(&opt).unwrap();
        for i in 0..2 {
            let v = 0.999 * 0.001 * g1[i] * g1[i] + 0.001 * g2[i] * g2[i];
            let want = (v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8;
            assert!((p[i] - want).abs() < 1e-15, "{} vs {want}", p[i]);
        }
        assert_eq!(
            preconditioner(&Optimizer::new(&spec(OptimizerKind::Gd, 0.1), 2)),
            None
        );
    }

    #[test]
    fn sharpening_summary_marks_the_first_reach_and_the_hover() {
        let steps = [0, 10, 20, 30, 40];
        let t = Some(10.0);
        let values = [Some(2.0), Some(8.0), Some(9.6), Some(10.4), Some(10.0)];
        let s = sharpening(&steps, &values, &[t; 5]);
        assert_eq!(s.first_reached, Some(20));
        assert_eq!(s.records_after, 3);
        assert!((s.mean_ratio - 1.0).abs() < 1e-12);
        assert!((s.max_ratio - 1.04).abs() < 1e-12 && (s.min_ratio - 0.96).abs() < 1e-12);
        assert!((s.mean_deviation - 0.08 / 3.0).abs() < 1e-12);
        assert!((s.start_ratio - 0.2).abs() < 1e-12);
        let never = sharpening(&steps, &[Some(1.0); 5], &[t; 5]);
        assert_eq!(never.first_reached, None);
        assert!(never.mean_ratio.is_nan());
    }
}
