//! Gradients against central finite differences over every hidden activation × every loss ×
//! {plain, BatchNorm, residual, L1/L2, BN + residual + L1/L2}.

mod common_net;

use common_net::*;
use nnlab::net::{Workspace, objective};

#[test]
fn gradient_matches_central_differences_over_the_grid() {
    let mut worst: f64 = 0.0;
    let checked = for_each_grid_case(12, |c| {
        let (p, opt) = (c.net.n_params, c.opt);
        let mut ws = Workspace::default();
        let mut g = vec![0.0; p];
        objective(
            c.net,
            c.theta,
            c.rows,
            opt.l1,
            opt.l2,
            &mut ws,
            Some(&mut g),
        );
        let mut fd = vec![0.0; p];
        let mut t = c.theta.to_vec();
        for i in 0..p {
            let h = 1e-5 * (1.0 + c.theta[i].abs());
            t[i] = c.theta[i] + h;
            let fp = objective(c.net, &t, c.rows, opt.l1, opt.l2, &mut ws, None);
            t[i] = c.theta[i] - h;
            let fm = objective(c.net, &t, c.rows, opt.l1, opt.l2, &mut ws, None);
            t[i] = c.theta[i];
            fd[i] = (fp - fm) / (2.0 * h);
        }
        let rel = relative_error(&g, &fd);
        assert!(
            rel <= 1e-6,
            "{}: relative error {rel:e}\n analytic {g:?}\n fd {fd:?}",
            c.label()
        );
        worst = worst.max(rel);
    });
    assert_eq!(checked, 12 * 6 * 5);
    eprintln!("worst relative error over {checked} cases: {worst:e}");
}
