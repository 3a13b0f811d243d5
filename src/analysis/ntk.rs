//! The empirical neural tangent kernel, lazy against rich training (THEORY row 34; Jacot et al.
//! 2018, Chizat et al. 2019, Lee et al. 2019).
//!
//! For a one-output regression network f(x) = α·g(x; θ) the empirical NTK on the training
//! inputs is Θ = α² J D Jᵀ, J the n × P Jacobian ∂g(x_i)/∂θ and D the parameterisation's
//! metric:
//!
//! * **NTK parameterisation**: every weight is ϑ ~ N(0, 1) and a layer computes
//!   ϑ·x/√fan_in + b. That is the standard network with W = ϑ/√fan_in, so the experiment runs
//!   on the project's ordinary network and takes gradient steps in ϑ: a GD step of η on ϑ is a
//!   step of η/fan_in on W (D = 1/fan_in on weights, 1 on biases), and Θ = α² J D Jᵀ.
//! * **Standard parameterisation**: the same initial network, GD directly on W (D = 1).
//!
//! Training is full-batch GD on L = 1/(2n) Σ (f(x_i) − y_i)²; the step is η = `lr_factor` ·
//! n / λ_max(Θ₀), so every width and parameterisation runs at the same fraction of its own
//! stability edge. Beside the network the linearised model f_lin = f₀ + α J₀ (θ − θ₀) is
//! trained with the same steps (lazy training: f stays close to f_lin), and kernel regression
//! with Θ₀ (the t → ∞ limit of f_lin) is evaluated on a grid.
//!
//! J comes from one reverse pass per training row (the gradient of ½(g − t)² with t = g − 1 is
//! ∂g/∂θ), Θ from one faer GEMM.

use faer::linalg::matmul::matmul;
use faer::{Accum, Par};
use faer_ext::IntoFaer;
use ndarray::Array2;
use serde::Serialize;

use super::dynamics::log_log_slope;
use super::spectrum::dense_eigen;
use crate::net::linalg::view;
use crate::net::network::BnMode;
use crate::net::spec::{Loss, NetworkSpec};
use crate::net::{Activation, Network, Rows, Workspace, objective};
use crate::rng::Rng;

/// How the weights are scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Parameterisation {
    /// ϑ ~ N(0, 1), layer output ϑx/√fan_in + b.
    Ntk,
    /// W ~ N(0, 1/fan_in), layer output Wx + b.
    Standard,
}

/// Widest hidden layer an experiment may ask for.
pub const MAX_WIDTH: usize = 100_000;
/// Most training rows (the kernel is n × n and J is rebuilt at every record).
pub const MAX_ROWS: usize = 2000;
/// Most values of J (n × P).
pub const MAX_JACOBIAN: usize = 50_000_000;

/// The network's parameters initialised for the experiment: weights N(0, 1/fan_in) (ϑ ~
/// N(0, 1)), biases N(0, 1) (Jacot et al.'s β = 1; zero biases would put every ReLU kink of
/// a 1-D net at x = 0). Other parameters (BatchNorm, PReLU) are refused by [`check_net`].
pub fn init(net: &Network, seed: u64) -> Vec<f64> {
    let mut rng = Rng::stream(seed, "ntk");
    let mut theta = vec![0.0; net.n_params];
    for l in &net.layers {
        let s = 1.0 / (l.fan_in as f64).sqrt();
        for w in &mut theta[l.w..l.w + l.n_weights()] {
            *w = s * rng.normal();
        }
        for b in &mut theta[l.b..l.b + l.units] {
            *b = rng.normal();
        }
    }
    theta
}

/// The metric D of the parameterisation (per parameter): 1/fan_in on weights for NTK, else 1.
pub fn metric(net: &Network, param: Parameterisation) -> Vec<f64> {
    let mut d = vec![1.0; net.n_params];
    if param == Parameterisation::Ntk {
        for l in &net.layers {
            let s = 1.0 / l.fan_in as f64;
            for v in &mut d[l.w..l.w + l.n_weights()] {
                *v = s;
            }
        }
    }
    d
}

/// The network the experiment can run: one identity output, no BatchNorm, PReLU or dropout
/// (their parameters or randomness have no place in the kernel here).
pub fn check_net(net: &Network) -> Result<(), String> {
    if net.output_units() != 1 || net.output().activation != Activation::Identity {
        return Err(
            "the NTK experiment needs one identity output unit (a regression network)".into(),
        );
    }
    for l in &net.layers {
        if l.batch_norm || l.prelu.is_some() || l.dropout > 0.0 {
            return Err("the NTK experiment takes no BatchNorm, PReLU or dropout layers".into());
        }
    }
    Ok(())
}

/// g(x) over `n` rows (inputs d per row).
pub fn outputs(net: &Network, theta: &[f64], x: &[f64], n: usize, ws: &mut Workspace) -> Vec<f64> {
    net.forward(theta, x, n, ws, BnMode::Batch, None);
    ws.layers[net.layers.len() - 1].f[..n].to_vec()
}

/// J = ∂g(x_i)/∂θ, n × P row-major, one reverse pass per row.
pub fn jacobian(net: &Network, theta: &[f64], x: &[f64], n: usize, ws: &mut Workspace) -> Vec<f64> {
    let p = net.n_params;
    let d = net.inputs;
    let g = outputs(net, theta, x, n, ws);
    let mut j = vec![0.0; n * p];
    for i in 0..n {
        // ½(g − t)² with t = g − 1 has gradient (g − t)·∂g/∂θ = ∂g/∂θ.
        let t = [g[i] - 1.0];
        let rows = Rows {
            x: &x[i * d..(i + 1) * d],
            y: &t,
            classes: 0,
        };
        objective(
            net,
            theta,
            rows,
            0.0,
            0.0,
            ws,
            Some(&mut j[i * p..(i + 1) * p]),
        );
    }
    j
}

/// Θ = s · J D Jᵀ (n × n) for J (n × P) and the metric D, by one GEMM.
pub fn gram(j: &[f64], n: usize, p: usize, metric: &[f64], s: f64) -> Vec<f64> {
    let jd: Vec<f64> = j
        .chunks_exact(p.max(1))
        .flat_map(|row| row.iter().zip(metric).map(|(a, m)| a * m))
        .collect();
    let (a, b) = (view(n, p, j), view(n, p, &jd));
    let mut out = Array2::<f64>::zeros((n, n));
    let jdjt = out.view_mut().into_faer();
    matmul(
        jdjt,
        Accum::Replace,
        a.into_faer(),
        b.into_faer().transpose(),
        s,
        Par::Seq,
    );
    // Exactly symmetric (the two triangles may differ in the last bit).
    let k = Array2::from_shape_fn((n, n), |(r, c)| 0.5 * (out[(r, c)] + out[(c, r)]));
    k.into_raw_vec_and_offset().0
}

fn frob(a: &[f64]) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// One experiment's settings.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Standard or NTK parameterisation.
    pub param: Parameterisation,
    /// Output scale α.
    pub alpha: f64,
    /// Full-batch GD steps.
    pub steps: u64,
    /// η = lr_factor · n / λ_max(Θ₀).
    pub lr_factor: f64,
    /// Kernel records along the run (besides step 0).
    pub records: usize,
    /// Seed of the initialisation.
    pub seed: u64,
}

/// What one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// Parameters of the network.
    pub params: usize,
    /// η used.
    pub lr: f64,
    /// The largest eigenvalue of Θ₀.
    pub lambda_max0: f64,
    /// Recorded steps (ϑ below is θ in the parameterisation's coordinates).
    pub steps: Vec<u64>,
    /// ‖Θ_t − Θ₀‖_F/‖Θ₀‖_F at each recorded step.
    pub kernel_change: Vec<f64>,
    /// ‖ϑ_t − ϑ₀‖/‖ϑ₀‖ at each recorded step.
    pub weight_change: Vec<f64>,
    /// The training loss at step 0.
    pub loss_start: f64,
    /// The training loss at the end.
    pub loss_end: f64,
    /// The linearised model's loss at the end.
    pub loss_lin_end: f64,
    /// max_i |f(x_i) − f_lin(x_i)| over the training rows at the end.
    pub lin_gap_train: f64,
    /// max |f − f_lin| over the grid (1-D inputs; else NaN).
    pub lin_gap_grid: f64,
    /// 1-D inputs only: the grid where f, f_lin and kernel regression with Θ₀ are shown.
    pub grid: Vec<f64>,
    /// f at the grid's points.
    pub f_grid: Vec<f64>,
    /// f_lin at the grid's points.
    pub f_lin_grid: Vec<f64>,
    /// Kernel regression with Θ₀ at the grid's points.
    pub f_kernel_grid: Vec<f64>,
    /// The training loss of f_t along the records.
    pub loss: Vec<f64>,
}

/// Points of the 1-D grid (over the training inputs' range).
pub const GRID: usize = 101;

/// Train `net` (built with the MSE loss) on (x, y) per `setup` and record the kernel.
pub fn run(net: &Network, x: &[f64], y: &[f64], setup: &Setup) -> Result<Run, String> {
    check_net(net)?;
    let d = net.inputs;
    let n = y.len();
    let p = net.n_params;
    if n == 0 || x.len() != n * d {
        return Err("the NTK experiment needs training rows".into());
    }
    if n > MAX_ROWS {
        return Err(format!(
            "the NTK experiment takes at most {MAX_ROWS} training rows (got {n})"
        ));
    }
    if n.saturating_mul(p) > MAX_JACOBIAN {
        return Err(format!(
            "J would have {n} × {p} values (at most {MAX_JACOBIAN}); use a narrower network or fewer rows"
        ));
    }
    if !(setup.alpha.is_finite() && setup.alpha > 0.0) {
        return Err("the output scale α must be a finite number > 0".into());
    }
    if !(setup.lr_factor.is_finite() && setup.lr_factor > 0.0 && setup.lr_factor < 2.0) {
        return Err("the step factor must be in (0, 2) (η = factor · n / λ_max(Θ₀))".into());
    }
    crate::memory::check(
        "the Jacobians of the NTK experiment",
        crate::memory::f64s(
            (3 * n * p)
                .saturating_add(4 * n * n)
                .saturating_add(GRID * p),
        ),
    )?;
    let a = setup.alpha;
    let m = metric(net, setup.param);
    let mut ws = Workspace::default();
    let theta0 = init(net, setup.seed);
    let j0 = jacobian(net, &theta0, x, n, &mut ws);
    let k0 = gram(&j0, n, p, &m, a * a);
    let k0_norm = frob(&k0);
    let (eigs, _) = dense_eigen(n, &k0, false)?;
    let lambda_max0 = eigs.last().copied().unwrap_or(f64::NAN);
    if !(lambda_max0.is_finite() && lambda_max0 > 0.0) {
        return Err("the kernel at θ₀ is zero".into());
    }
    let lr = setup.lr_factor * n as f64 / lambda_max0;
    // ϑ-coordinates: ϑ = θ/√D.
    let theta_norm = theta0
        .iter()
        .zip(&m)
        .map(|(t, d)| t * t / d)
        .sum::<f64>()
        .sqrt();
    let g0 = outputs(net, &theta0, x, n, &mut ws);
    let loss_of =
        |f: &[f64]| f.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / (2.0 * n as f64);
    let f0: Vec<f64> = g0.iter().map(|g| a * g).collect();
    let mut theta = theta0.clone();
    let mut lin = theta0.clone();
    let mut grad = vec![0.0; p];
    let mut out = Run {
        params: p,
        lr,
        lambda_max0,
        steps: vec![0],
        kernel_change: vec![0.0],
        weight_change: vec![0.0],
        loss_start: loss_of(&f0),
        loss_end: f64::NAN,
        loss_lin_end: f64::NAN,
        lin_gap_train: f64::NAN,
        lin_gap_grid: f64::NAN,
        grid: Vec::new(),
        f_grid: Vec::new(),
        f_lin_grid: Vec::new(),
        f_kernel_grid: Vec::new(),
        loss: vec![loss_of(&f0)],
    };
    let every = (setup.steps / setup.records.max(1) as u64).max(1);
    let f_lin = |lin: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| {
                let row = &j0[i * p..(i + 1) * p];
                f0[i]
                    + a * row
                        .iter()
                        .zip(lin.iter().zip(&theta0))
                        .map(|(j, (t, t0))| j * (t - t0))
                        .sum::<f64>()
            })
            .collect()
    };
    for s in 1..=setup.steps {
        // The network: ∇θ L = (α/n) Jᵀ r through the objective with targets t = g − α r.
        let g = outputs(net, &theta, x, n, &mut ws);
        let t: Vec<f64> = g.iter().zip(y).map(|(g, y)| g - a * (a * g - y)).collect();
        let rows = Rows {
            x,
            y: &t,
            classes: 0,
        };
        objective(net, &theta, rows, 0.0, 0.0, &mut ws, Some(&mut grad));
        for ((th, gr), d) in theta.iter_mut().zip(&grad).zip(&m) {
            *th -= lr * d * gr;
        }
        // The linearised model, the same step on its own residual.
        let fl = f_lin(&lin);
        let r: Vec<f64> = fl.iter().zip(y).map(|(f, y)| f - y).collect();
        for k in 0..p {
            let mut acc = 0.0;
            for i in 0..n {
                acc += j0[i * p + k] * r[i];
            }
            lin[k] -= lr * m[k] * a * acc / n as f64;
        }
        if theta.iter().any(|v| !v.is_finite()) {
            return Err(format!("training diverged at step {s}"));
        }
        if s.is_multiple_of(every) || s == setup.steps {
            let j = jacobian(net, &theta, x, n, &mut ws);
            let k = gram(&j, n, p, &m, a * a);
            let dk: Vec<f64> = k.iter().zip(&k0).map(|(u, v)| u - v).collect();
            out.steps.push(s);
            out.kernel_change.push(frob(&dk) / k0_norm);
            let dw = theta
                .iter()
                .zip(&theta0)
                .zip(&m)
                .map(|((t, t0), d)| (t - t0) * (t - t0) / d)
                .sum::<f64>()
                .sqrt();
            out.weight_change.push(dw / theta_norm);
            let f: Vec<f64> = outputs(net, &theta, x, n, &mut ws)
                .iter()
                .map(|g| a * g)
                .collect();
            out.loss.push(loss_of(&f));
        }
    }
    let f: Vec<f64> = outputs(net, &theta, x, n, &mut ws)
        .iter()
        .map(|g| a * g)
        .collect();
    let fl = f_lin(&lin);
    out.loss_end = loss_of(&f);
    out.loss_lin_end = loss_of(&fl);
    out.lin_gap_train = f
        .iter()
        .zip(&fl)
        .map(|(u, v)| (u - v).abs())
        .fold(0.0, f64::max);
    if d == 1 {
        grid_outputs(
            net, x, y, &theta0, &theta, &lin, &j0, &k0, &m, a, &mut out, &mut ws,
        )?;
    }
    Ok(out)
}

/// f, f_lin and kernel regression with Θ₀ on a 1-D grid over the inputs' range.
#[allow(clippy::too_many_arguments)]
fn grid_outputs(
    net: &Network,
    x: &[f64],
    y: &[f64],
    theta0: &[f64],
    theta: &[f64],
    lin: &[f64],
    j0: &[f64],
    k0: &[f64],
    m: &[f64],
    a: f64,
    out: &mut Run,
    ws: &mut Workspace,
) -> Result<(), String> {
    let n = y.len();
    let p = net.n_params;
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let grid: Vec<f64> = (0..GRID)
        .map(|i| lo + (hi - lo) * i as f64 / (GRID - 1) as f64)
        .collect();
    let jg = jacobian(net, theta0, &grid, GRID, ws);
    let g0 = outputs(net, theta0, &grid, GRID, ws);
    let f_grid: Vec<f64> = outputs(net, theta, &grid, GRID, ws)
        .iter()
        .map(|g| a * g)
        .collect();
    let f_lin_grid: Vec<f64> = (0..GRID)
        .map(|i| {
            let row = &jg[i * p..(i + 1) * p];
            a * g0[i]
                + a * row
                    .iter()
                    .zip(lin.iter().zip(theta0))
                    .map(|(j, (t, t0))| j * (t - t0))
                    .sum::<f64>()
        })
        .collect();
    // Kernel regression: f₀(x) + Θ₀(x, X) Θ₀(X, X)⁻¹ (y − f₀(X)).
    let f0_train: Vec<f64> = outputs(net, theta0, x, n, ws)
        .iter()
        .map(|g| a * g)
        .collect();
    let rhs: Vec<f64> = y.iter().zip(&f0_train).map(|(y, f)| y - f).collect();
    // Θ₀⁺ by its eigenvectors (the pseudo-inverse: the t → ∞ limit of the linearised model
    // from f₀ also when Θ₀ is singular, e.g. fewer parameters than rows).
    let (vals, vecs) = dense_eigen(n, k0, true)?;
    let top = vals.iter().copied().fold(0.0f64, f64::max);
    let mut coef = vec![0.0; n];
    for (lam, u) in vals.iter().zip(&vecs) {
        if *lam > 1e-12 * top {
            let c = u.iter().zip(&rhs).map(|(a, b)| a * b).sum::<f64>() / lam;
            for (o, ui) in coef.iter_mut().zip(u) {
                *o += c * ui;
            }
        }
    }
    let f_kernel_grid: Vec<f64> = (0..GRID)
        .map(|i| {
            let gi = &jg[i * p..(i + 1) * p];
            let mut s = a * g0[i];
            for r in 0..n {
                let jr = &j0[r * p..(r + 1) * p];
                let k: f64 = gi
                    .iter()
                    .zip(jr)
                    .zip(m)
                    .map(|((u, v), d)| u * v * d)
                    .sum::<f64>();
                s += a * a * k * coef[r];
            }
            s
        })
        .collect();
    out.lin_gap_grid = f_grid
        .iter()
        .zip(&f_lin_grid)
        .map(|(u, v)| (u - v).abs())
        .fold(0.0, f64::max);
    out.grid = grid;
    out.f_grid = f_grid;
    out.f_lin_grid = f_lin_grid;
    out.f_kernel_grid = f_kernel_grid;
    Ok(())
}

/// `spec` with every hidden layer `width` units wide, built with the MSE loss.
pub fn network_of_width(spec: &NetworkSpec, width: usize) -> Result<Network, String> {
    let mut s = spec.clone();
    let last = s.layers.len().saturating_sub(1);
    for l in &mut s.layers[..last] {
        l.units = width;
    }
    Network::build(&s, Loss::Mse).map_err(|e| e.to_string())
}

/// Log-log slope of the final kernel change against width.
pub fn width_slope(widths: &[usize], runs: &[Run]) -> f64 {
    let w: Vec<f64> = widths.iter().map(|&w| w as f64).collect();
    let k: Vec<f64> = runs
        .iter()
        .map(|r| r.kernel_change.last().copied().unwrap_or(f64::NAN))
        .collect();
    log_log_slope(&w, &k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::spec::{Init, LayerSpec, WeightConstraint};

    fn spec(hidden: &[usize], act: Activation) -> NetworkSpec {
        let mut layers: Vec<LayerSpec> = hidden.iter().map(|&u| LayerSpec::new(u, act)).collect();
        layers.push(LayerSpec::new(1, Activation::Identity));
        NetworkSpec {
            inputs: 1,
            layers,
            init: Init::XavierNormal,
            init_scale: 1.0,
            features: None,
            residual: false,
            weight_constraint: WeightConstraint::None,
        }
    }

    fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..n)
            .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
            .collect();
        let y = x.iter().map(|v| (3.0 * v).sin()).collect();
        (x, y)
    }

    /// J against central differences of the outputs.
    #[test]
    fn jacobian_matches_finite_differences() {
        let net = Network::build(&spec(&[6, 5], Activation::Tanh), Loss::Mse).unwrap();
        let theta = init(&net, 4);
        let (x, _) = data(7);
        let mut ws = Workspace::default();
        let j = jacobian(&net, &theta, &x, 7, &mut ws);
        let h = 1e-6;
        let mut worst = 0.0f64;
        for k in 0..net.n_params {
            let mut tp = theta.clone();
            let mut tm = theta.clone();
            tp[k] += h;
            tm[k] -= h;
            let fp = outputs(&net, &tp, &x, 7, &mut ws);
            let fm = outputs(&net, &tm, &x, 7, &mut ws);
            for i in 0..7 {
                let fd = (fp[i] - fm[i]) / (2.0 * h);
                worst = worst.max((fd - j[i * net.n_params + k]).abs());
            }
        }
        assert!(worst < 1e-8, "{worst}");
    }

    /// Θ against the triple loop.
    #[test]
    fn gram_is_j_d_j_transpose() {
        let (n, p) = (5, 9);
        let j: Vec<f64> = (0..n * p)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 3.0)
            .collect();
        let m: Vec<f64> = (0..p).map(|k| 1.0 / (1 + k % 3) as f64).collect();
        let k = gram(&j, n, p, &m, 2.5);
        for r in 0..n {
            for c in 0..n {
                let want: f64 = 2.5
                    * (0..p)
                        .map(|q| j[r * p + q] * m[q] * j[c * p + q])
                        .sum::<f64>();
                assert!((k[r * n + c] - want).abs() < 1e-12 * want.abs().max(1.0));
            }
        }
    }

    /// A network without hidden layers is linear in θ: f = f_lin exactly, the kernel never
    /// moves, and Θ(x, x') = α²(x x'/fan_in + 1) in the NTK parameterisation.
    #[test]
    fn a_linear_model_is_its_own_linearisation() {
        let net = Network::build(&spec(&[], Activation::Identity), Loss::Mse).unwrap();
        let (x, y) = data(6);
        let setup = Setup {
            param: Parameterisation::Ntk,
            alpha: 2.0,
            steps: 50,
            lr_factor: 0.5,
            records: 5,
            seed: 1,
        };
        let r = run(&net, &x, &y, &setup).unwrap();
        assert!(
            r.kernel_change.iter().all(|&c| c < 1e-14),
            "{:?}",
            r.kernel_change
        );
        assert!(r.lin_gap_train < 1e-12 && r.lin_gap_grid < 1e-12);
        assert!((r.loss_end - r.loss_lin_end).abs() < 1e-12);
        let mut ws = Workspace::default();
        let j = jacobian(&net, &init(&net, 1), &x, 6, &mut ws);
        let k = gram(
            &j,
            6,
            net.n_params,
            &metric(&net, Parameterisation::Ntk),
            4.0,
        );
        for a in 0..6 {
            for b in 0..6 {
                let want = 4.0 * (x[a] * x[b] + 1.0);
                assert!((k[a * 6 + b] - want).abs() < 1e-12);
            }
        }
    }

    /// Refusals: a classifier output, α ≤ 0, a factor outside (0, 2).
    #[test]
    fn bad_setups_are_refused() {
        let net = Network::build(&spec(&[4], Activation::Tanh), Loss::Mse).unwrap();
        let (x, y) = data(5);
        let ok = Setup {
            param: Parameterisation::Ntk,
            alpha: 1.0,
            steps: 1,
            lr_factor: 0.5,
            records: 1,
            seed: 1,
        };
        assert!(
            run(
                &net,
                &x,
                &y,
                &Setup {
                    alpha: 0.0,
                    ..ok.clone()
                }
            )
            .is_err()
        );
        assert!(
            run(
                &net,
                &x,
                &y,
                &Setup {
                    lr_factor: 2.0,
                    ..ok.clone()
                }
            )
            .is_err()
        );
        let mut s = spec(&[4], Activation::Tanh);
        s.layers[1].activation = Activation::Sigmoid;
        let sig = Network::build(&s, Loss::Mse).unwrap();
        assert!(run(&sig, &x, &y, &ok).unwrap_err().contains("identity"));
    }
}
