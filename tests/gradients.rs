//! Gradients against central finite differences over every hidden activation × every loss ×
//! {plain, BatchNorm, residual, L1/L2, BN + residual + L1/L2}.

mod common_net;

use common_net::*;
use nnlab::net::{Rows, Workspace, objective};

#[test]
fn gradient_matches_central_differences_over_the_grid() {
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    for (ai, act) in hidden_activations().into_iter().enumerate() {
        for (ci, case) in LOSS_CASES.into_iter().enumerate() {
            for (oi, opt) in OPTIONS.into_iter().enumerate() {
                let seed = (100 * ai + 10 * ci + oi) as u64;
                let (net, theta) = network_and_theta(act, case, opt, seed);
                let (x, y) = data(case, 12, seed + 1);
                let rows = Rows {
                    x: &x,
                    y: &y,
                    classes: case.classes,
                };
                let mut ws = Workspace::default();
                let mut g = vec![0.0; net.n_params];
                objective(&net, &theta, rows, opt.l1, opt.l2, &mut ws, Some(&mut g));
                let mut fd = vec![0.0; net.n_params];
                let mut t = theta.clone();
                for i in 0..net.n_params {
                    let h = 1e-5 * (1.0 + theta[i].abs());
                    t[i] = theta[i] + h;
                    let fp = objective(&net, &t, rows, opt.l1, opt.l2, &mut ws, None);
                    t[i] = theta[i] - h;
                    let fm = objective(&net, &t, rows, opt.l1, opt.l2, &mut ws, None);
                    t[i] = theta[i];
                    fd[i] = (fp - fm) / (2.0 * h);
                }
                let diff: f64 = g
                    .iter()
                    .zip(&fd)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                let scale = g.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-8);
                let rel = diff / scale;
                assert!(
                    rel <= 1e-6,
                    "{act:?} / {:?}+{:?} / {opt:?}: relative error {rel:e}\n analytic {g:?}\n fd {fd:?}",
                    case.loss,
                    case.output
                );
                worst = worst.max(rel);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10 * 6 * 5);
    eprintln!("worst relative error over {checked} cases: {worst:e}");
}
