//! J(origin + α·d1 + β·d2) fast, for many (α, β).
//!
//! The first layer's pre-activation is linear in θ along the plane:
//!   z₀(α, β) = Φ·W₀ᵀ + b₀ + α·(Φ·D1₀ᵀ + d1_b₀) + β·(Φ·D2₀ᵀ + d2_b₀),
//! so the three products are computed once and each point costs a linear combination there.
//! The layers after the first run through [`Network::forward`] of a sub-network whose input
//! is the first layer's output, so they are exactly the code the objective runs (at
//! (α, β) = (0, 0) bit-identical to `net::objective`) — except for plain MLPs (no BatchNorm,
//! PReLU or residual layers), which take the faster evaluation-only pass of [`fast`]
//! (equal to the objective to ~1e-15 relative).

use crate::net::features::Feature;
use crate::net::kernels::{sigmoid_slice, tanh_slice};
use crate::net::linalg::{matmul_nt, view, view_mut};
use crate::net::network::{BN_EPS, BnMode, Network, Workspace, batch_mean_var};
use crate::net::{Activation, objective};
use ndarray::ArrayView2;

use super::fast::{self, Lean};
use super::{Objective, Plane};

pub(crate) struct PlaneEval<'a> {
    obj: &'a Objective<'a>,
    plane: &'a Plane,
    /// The split at the first layer; `None` when the first layer is the output layer or
    /// there are no rows (then each point runs the plain objective).
    split: Option<Split>,
}

struct Split {
    /// The layers after the first, as a network over the first layer's output.
    rest: Network,
    /// Offset in θ of the second layer.
    offset: usize,
    /// Φ(x): rows × features (for a residual first layer).
    phi: Vec<f64>,
    /// Φ·W₀ᵀ + b₀, and the same products for d1 and d2 (rows × units).
    z_origin: Vec<f64>,
    z_d1: Vec<f64>,
    z_d2: Vec<f64>,
    /// The three products are used (fan-in > 3); with fewer inputs z₀ is computed directly,
    /// which reads less memory than three precomputed rows × units arrays.
    precomputed: bool,
    /// Plain MLP after the first layer: use the lean evaluation-only pass.
    lean: bool,
}

/// Per-thread buffers.
pub(crate) struct Scratch {
    theta: Vec<f64>,
    /// W₀ᵀ (fan_in × units).
    wt: Vec<f64>,
    z: Vec<f64>,
    u: Vec<f64>,
    a: Vec<f64>,
    mean: Vec<f64>,
    var: Vec<f64>,
    invstd: Vec<f64>,
    ws: Workspace,
    lean: Lean,
}

fn linear(phi: &[f64], rows: usize, w: ArrayView2<f64>, b: &[f64]) -> Vec<f64> {
    let (n, k) = w.dim();
    let mut z = vec![0.0; rows * n];
    matmul_nt(view(rows, k, phi), w, view_mut(rows, n, &mut z));
    for zr in z.chunks_exact_mut(n) {
        for (zj, bj) in zr.iter_mut().zip(b) {
            *zj += bj;
        }
    }
    z
}

impl<'a> PlaneEval<'a> {
    pub(crate) fn new(obj: &'a Objective<'a>, plane: &'a Plane) -> Self {
        let net = obj.net;
        let rows = obj.rows.len();
        let split = (net.layers.len() >= 2 && rows > 0).then(|| {
            let first = &net.layers[0];
            let (k, n) = (first.fan_in, first.units);
            let nf = net.features.len();
            let mut phi = vec![0.0; rows * nf];
            for r in 0..rows {
                let xr = &obj.rows.x[r * net.inputs..(r + 1) * net.inputs];
                for (d, f) in phi[r * nf..(r + 1) * nf].iter_mut().zip(&net.features) {
                    *d = f.eval(xr);
                }
            }
            let precomputed = k > 3;
            let z = |v: &[f64]| {
                if precomputed {
                    linear(&phi, rows, first.weight_view(v), first.bias(v))
                } else {
                    Vec::new()
                }
            };
            let (z_origin, z_d1, z_d2) = (z(&plane.origin), z(&plane.d1), z(&plane.d2));
            let offset = first.end;
            let layers = net.layers[1..]
                .iter()
                .map(|l| {
                    let mut l = l.clone();
                    l.w -= offset;
                    l.b -= offset;
                    l.gamma = l.gamma.map(|g| g - offset);
                    l.beta = l.beta.map(|g| g - offset);
                    l.prelu = l.prelu.map(|g| g - offset);
                    l.end -= offset;
                    l
                })
                .collect();
            let rest = Network {
                inputs: n,
                features: (0..n).map(Feature::Raw).collect(),
                layers,
                loss: net.loss,
                constraint: net.constraint,
                n_params: net.n_params - offset,
                // Only evaluated, never trained: no fixed parameters to keep.
                mask: Default::default(),
            };
            Split {
                precomputed,
                lean: fast::supports(net),
                rest,
                offset,
                phi,
                z_origin,
                z_d1,
                z_d2,
            }
        });
        PlaneEval { obj, plane, split }
    }

    pub(crate) fn scratch(&self) -> Scratch {
        let cells = self.obj.rows.len() * self.obj.net.layers[0].units;
        let units = self.obj.net.layers[0].units;
        Scratch {
            theta: vec![0.0; self.obj.net.n_params],
            wt: vec![0.0; self.obj.net.layers[0].n_weights()],
            z: vec![0.0; cells],
            u: vec![0.0; cells],
            a: vec![0.0; cells],
            mean: vec![0.0; units],
            var: vec![0.0; units],
            invstd: vec![0.0; units],
            ws: Workspace::default(),
            lean: Lean::default(),
        }
    }

    /// J(origin + α·d1 + β·d2).
    pub(crate) fn value(&self, alpha: f64, beta: f64, s: &mut Scratch) -> f64 {
        let obj = self.obj;
        self.plane.point_into(alpha, beta, &mut s.theta);
        let Some(sp) = &self.split else {
            return objective(obj.net, &s.theta, obj.rows, obj.l1, obj.l2, &mut s.ws, None);
        };
        let net = obj.net;
        let layer = &net.layers[0];
        let n = layer.units;
        let m = obj.rows.len();
        let theta = &s.theta;
        let k = layer.fan_in;
        if sp.precomputed {
            // z₀ = (Φ·W₀ᵀ + b₀) + α·(…d1) + β·(…d2).
            for (((z, &o), &p), &q) in s.z.iter_mut().zip(&sp.z_origin).zip(&sp.z_d1).zip(&sp.z_d2)
            {
                *z = o + alpha * p + beta * q;
            }
        } else if sp.lean {
            // Few inputs: z₀ = b₀ + Σ_l Φ[:, l]·W₀[:, l]ᵀ directly, vectorised along the units.
            // Wᵀ (k × n), so the loop below runs along the units.
            view_mut(k, n, &mut s.wt).assign(&layer.weight_view(theta).t());
            let b = layer.bias(theta);
            for (zr, pr) in s.z.chunks_exact_mut(n).zip(sp.phi.chunks_exact(k)) {
                zr.copy_from_slice(b);
                for (l, &x) in pr.iter().enumerate() {
                    for (zj, &wj) in zr.iter_mut().zip(&s.wt[l * n..(l + 1) * n]) {
                        *zj += x * wj;
                    }
                }
            }
        } else {
            // Exactly as Network::forward: bit-identical at the origin.
            let z = view_mut(m, n, &mut s.z);
            matmul_nt(view(m, k, &sp.phi), layer.weight_view(theta), z);
            let b = layer.bias(theta);
            for zr in s.z.chunks_exact_mut(n) {
                for (zj, bj) in zr.iter_mut().zip(b) {
                    *zj += bj;
                }
            }
        }
        if sp.lean && !layer.batch_norm && layer.prelu.is_none() {
            // Activate in place, no copy.
            std::mem::swap(&mut s.z, &mut s.a);
            fast::activate_in_place(layer.activation, layer.param, n, &mut s.a);
            return self.finish(sp, s);
        }
        // BatchNorm on the batch statistics, as Network::forward does.
        let u: &[f64] = if layer.batch_norm {
            let gamma = &theta[layer.gamma.unwrap_or(0)..][..n];
            let beta_bn = &theta[layer.beta.unwrap_or(0)..][..n];
            batch_mean_var(&s.z[..m * n], n, &mut s.mean[..n], &mut s.var[..n]);
            for j in 0..n {
                s.invstd[j] = 1.0 / (s.var[j] + BN_EPS).sqrt();
            }
            for (zr, ur) in s.z.chunks_exact(n).zip(s.u.chunks_exact_mut(n)) {
                for j in 0..n {
                    let xhat = (zr[j] - s.mean[j]) * s.invstd[j];
                    ur[j] = gamma[j] * xhat + beta_bn[j];
                }
            }
            &s.u
        } else {
            &s.z
        };
        // Activation (the first layer is hidden here, so never softmax).
        if let Some(pa) = layer.prelu {
            let a = &theta[pa..pa + n];
            for (ur, fr) in u.chunks_exact(n).zip(s.a.chunks_exact_mut(n)) {
                for j in 0..n {
                    fr[j] = layer.activation.value(ur[j], a[j]);
                }
            }
        } else if sp.lean {
            s.a.copy_from_slice(u);
            fast::activate_in_place(layer.activation, layer.param, n, &mut s.a);
        } else {
            let (act, p) = (layer.activation, layer.param);
            match act {
                Activation::Relu => {
                    for (f, &v) in s.a.iter_mut().zip(u) {
                        *f = v.max(0.0);
                    }
                }
                Activation::Tanh => tanh_slice(u, &mut s.a),
                Activation::Sigmoid => sigmoid_slice(u, &mut s.a),
                _ => {
                    for (f, &v) in s.a.iter_mut().zip(u) {
                        *f = act.value(v, p);
                    }
                }
            }
        }
        self.finish(sp, s)
    }

    /// Residual of the first layer, then the rest of the network and the regulariser.
    fn finish(&self, sp: &Split, s: &mut Scratch) -> f64 {
        let obj = self.obj;
        let net = obj.net;
        let layer = &net.layers[0];
        let m = obj.rows.len();
        if layer.residual {
            for (a, &x) in s.a.iter_mut().zip(&sp.phi) {
                *a += x;
            }
        }
        let theta = &s.theta;
        let reg = net.regularise(theta, obj.l1, obj.l2, None);
        if sp.lean {
            let y = obj.rows.y;
            return s.lean.data_loss(net, theta, &s.a, m, y, obj.rows.classes) + reg;
        }
        // The rest of the network, exactly as the objective runs it.
        let rest = &sp.rest;
        let th = &theta[sp.offset..];
        rest.forward(th, &s.a, m, &mut s.ws, BnMode::Batch, None);
        rest.set_targets(&mut s.ws, obj.rows.y, rest.target_coding(obj.rows.classes));
        let scale = 1.0 / m as f64;
        let data_loss = rest.loss_and_output_delta(th, &mut s.ws, scale) * scale;
        data_loss + reg
    }
}
