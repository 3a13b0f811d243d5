//! Frozen layers and pruning masks: fixed parameters never change under any optimiser,
//! regulariser or constraint, and sessions without masks train exactly as before.

use nnlab::net::mask;
use nnlab::session::{self, Session};
use nnlab::train::Trainer;

fn trainer_from(text: &str) -> Trainer {
    let s: Session = session::parse(text).expect("valid session");
    let (train, test) = session::build_data(&s, None).expect("data");
    Trainer::new(&s.trainer_config(), train, test, s.params.clone()).expect("trainer")
}

/// A 2-6-6-1 net: layer 0 frozen (`{FROZEN}`), layer 1 with weights pruned (`{PRUNED}`), with
/// every kind of pull on the parameters at once: L1 and L2, clipping, BatchNorm, PReLU.
fn session(kind: &str, frozen: &str, pruned: &str) -> String {
    r#"{
  "nnlab": 1, "name": "masked", "seed": 4,
  "data": {"source": "moons", "n": 120, "noise": 0.15},
  "network": {"inputs": 2, "init": "he_normal",
    "layers": [{"units": 6, "activation": "tanh"FROZEN},
               {"units": 6, "activation": "prelu", "batch_norm": true PRUNED},
               {"units": 1, "activation": "sigmoid"}]},
  "loss": "bce",
  "optimizer": {"kind": "KIND", "lr": 0.05, "batch_size": 16, "clip_norm": 5.0},
  "regularization": {"l1": 0.001, "l2": 0.01}
}"#
    .replace("KIND", kind)
    .replace("FROZEN", frozen)
    .replace("PRUNED", pruned)
}

const KINDS: [&str; 8] = [
    "gd",
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "feedback_alignment",
];

/// 36 weights of layer 1; every third pruned.
fn every_third() -> (Vec<bool>, String) {
    let bits: Vec<bool> = (0..36).map(|i| i % 3 == 0).collect();
    let text = mask::encode(&bits);
    (bits, text)
}

#[test]
fn frozen_parameters_stay_bit_identical_and_pruned_weights_stay_zero_under_every_optimizer() {
    let (bits, hex) = every_third();
    for kind in KINDS {
        let text = session(
            kind,
            r#", "trainable": false"#,
            &format!(r#", "pruned": "{hex}""#),
        );
        let mut t = trainer_from(&text);
        let theta0 = t.theta.clone();
        let (l0, l1) = (t.net.layers[0].clone(), t.net.layers[1].clone());
        for _ in 0..300 {
            let r = t.step();
            assert!(!r.diverged, "{kind} diverged");
        }
        for (i, (a, b)) in t.theta[..l0.end].iter().zip(&theta0).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{kind}: frozen parameter {i} moved"
            );
        }
        for (j, &p) in bits.iter().enumerate() {
            let v = t.theta[l1.w + j];
            if p {
                assert_eq!(
                    v.to_bits(),
                    0.0f64.to_bits(),
                    "{kind}: pruned weight {j} is {v}"
                );
            }
        }
        // The rest trained: every unpruned weight of layer 1 and the output layer moved.
        let moved = (l1.w..t.net.n_params)
            .filter(|&i| t.net.mask.trains(i) && t.theta[i] != theta0[i])
            .count();
        let trainable = (l1.w..t.net.n_params)
            .filter(|&i| t.net.mask.trains(i))
            .count();
        assert!(
            moved as f64 >= 0.9 * trainable as f64,
            "{kind}: only {moved} of {trainable} trainable parameters moved"
        );
    }
}

#[test]
fn pruned_weights_start_at_zero_even_from_given_parameters() {
    let (bits, hex) = every_third();
    let text = session("adam", "", &format!(r#", "pruned": "{hex}""#));
    let s: Session = session::parse(&text).unwrap();
    let (train, test) = session::build_data(&s, None).unwrap();
    let n = trainer_from(&text).net.n_params;
    let ones = vec![1.0; n];
    let t = Trainer::new(&s.trainer_config(), train, test, Some(ones)).unwrap();
    let w = t.net.layers[1].w;
    for (j, &p) in bits.iter().enumerate() {
        assert_eq!(t.theta[w + j], if p { 0.0 } else { 1.0 });
    }
}

#[test]
fn explicit_defaults_train_bit_identically_to_no_mask_at_all() {
    let empty = mask::encode(&[false; 36]);
    for kind in ["sgd", "adam"] {
        let mut plain = trainer_from(&session(kind, "", ""));
        let mut explicit = trainer_from(&session(
            kind,
            r#", "trainable": true"#,
            &format!(r#", "pruned": "{empty}""#),
        ));
        for _ in 0..200 {
            plain.step();
            explicit.step();
        }
        assert!(
            plain
                .theta
                .iter()
                .zip(&explicit.theta)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{kind}: an empty mask changed training"
        );
    }
}

#[test]
fn masks_survive_a_save_and_load() {
    let (_, hex) = every_third();
    let text = session(
        "sgd",
        r#", "trainable": false"#,
        &format!(r#", "pruned": "{hex}""#),
    );
    let s: Session = session::parse(&text).unwrap();
    let again: Session = session::parse(&session::to_json(&s).unwrap()).unwrap();
    assert_eq!(again.network, s.network);
    assert!(!again.network.layers[0].trainable);
    assert_eq!(
        again.network.layers[1].pruned.as_deref(),
        Some(hex.as_str())
    );
    // And a session without masks writes no mask fields.
    let plain: Session = session::parse(&session("sgd", "", "")).unwrap();
    let json = session::to_json(&plain).unwrap();
    assert!(
        !json.contains("trainable") && !json.contains("pruned"),
        "{json}"
    );
}

#[test]
fn a_mask_of_the_wrong_length_is_one_clear_error() {
    let text = session("sgd", "", r#", "pruned": "ff""#);
    let s: Session = session::parse(&text).unwrap();
    let e = session::build_data(&s, None).unwrap_err().to_string();
    assert!(
        e.contains("network.layers[1].pruned") && e.contains("need 9"),
        "{e}"
    );
}
