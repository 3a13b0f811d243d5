//! ONNX: one `.onnx` file, opset 13, with one input `x` [N, inputs] (raw inputs, f64) and one
//! output `y` [N, outputs] (f64): the same mapping as nnlab's network in evaluation mode.
//!
//! The graph is built from operators every runtime has in double precision (MatMul, Add, Mul,
//! Exp, Log, Tanh, Where, Softmax …) and spells the activations out the way nnlab computes
//! them, so the output agrees with nnlab's to about 1e-15:
//! - sigmoid as 1/(1 + e^−u): tract has no double Sigmoid;
//! - leaky ReLU, PReLU and ELU as `Where(u > 0, …)` with α an f64 constant: ONNX's LeakyRelu
//!   and Elu take α as an f32 attribute (0.01 becomes 0.009999999776…);
//! - BatchNorm as (z − μ)·(1/√(σ² + ε))·γ + β: BatchNormalization's ε is an f32 attribute too;
//! - softplus as max(u, 0) + ln(1 + e^−|u|): finite for every u (and inside Mish, whose ONNX
//!   operator needs opset 18).
//!
//! GELU needs erf, which neither tract nor onnxruntime computes in double: its argument is cast
//! to f32 for Erf and back (about 1e-7 relative in that layer), and the export says so.
//! Dropout is the identity in evaluation and leaves no node.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};
use crate::memory;
use crate::net::Activation;
use crate::net::features::Feature;
use crate::net::network::{BN_EPS, Layer};
use crate::session;

use super::protobuf::Message;
use super::pytorch::producer;
use super::{Model, Written};

/// The operator set the graph uses.
pub const OPSET: i64 = 13;
/// The IR version that goes with opset 13 (ONNX 1.8).
const IR_VERSION: i64 = 7;

/// TensorProto.DataType values.
const FLOAT: i64 = 1;
const INT64: i64 = 7;
const DOUBLE: i64 = 11;
/// AttributeProto.AttributeType INT and INTS.
const ATTRIBUTE_INT: i64 = 2;
const ATTRIBUTE_INTS: i64 = 7;

/// Write the model to `path` (a file).
pub fn write(model: &Model, path: &Path) -> Result<Written> {
    let bytes = model_bytes(model)?;
    session::write_atomic(path, &bytes)?;
    Ok(Written {
        files: vec![path.to_path_buf()],
        precision: precision(model),
    })
}

/// `f64`, or which operator runs in f32.
pub fn precision(model: &Model) -> String {
    if model
        .net
        .layers
        .iter()
        .any(|l| l.activation == Activation::Gelu)
    {
        "f64, except GELU's erf in f32 (tract and onnxruntime have no double Erf)".into()
    } else {
        "f64".into()
    }
}

/// The graph being built: nodes in order, initializers, and the shared constants added so far.
#[derive(Default)]
struct Graph {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
    constants: HashSet<String>,
}

fn int_attribute(name: &str, value: i64) -> Message {
    let mut a = Message::new();
    a.string(1, name).int(3, value).int(20, ATTRIBUTE_INT);
    a
}

fn ints_attribute(name: &str, values: &[i64]) -> Message {
    let mut a = Message::new();
    a.string(1, name);
    for &v in values {
        a.int(8, v);
    }
    a.int(20, ATTRIBUTE_INTS);
    a
}

impl Graph {
    /// A node `op` whose one output (and its name) is `out`.
    fn node(&mut self, op: &str, out: &str, inputs: &[&str], attributes: &[Message]) -> String {
        let mut n = Message::new();
        for i in inputs {
            n.string(1, i);
        }
        n.string(2, out).string(3, out).string(4, op);
        for a in attributes {
            n.message(5, a);
        }
        self.nodes.push(n);
        out.to_string()
    }

    fn initializer(&mut self, name: &str, shape: &[usize], data_type: i64, raw: &[u8]) {
        let mut t = Message::new();
        for &d in shape {
            t.int(1, d as i64);
        }
        t.int(2, data_type).string(8, name).bytes(9, raw);
        self.initializers.push(t);
    }

    fn tensor_f64(&mut self, name: &str, shape: &[usize], values: &[f64]) {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, shape, DOUBLE, &raw);
    }

    /// A rank-0 f64 constant, added once under its name.
    fn scalar(&mut self, name: &str, value: f64) -> String {
        if self.constants.insert(name.to_string()) {
            self.tensor_f64(name, &[], &[value]);
        }
        name.to_string()
    }

    /// The index tensor [j] that gathers raw column j, added once.
    fn column_index(&mut self, j: usize) -> String {
        let name = format!("column_index.{j}");
        if self.constants.insert(name.clone()) {
            self.initializer(&name, &[1], INT64, &(j as i64).to_le_bytes());
        }
        name
    }

    /// σ(input) = 1/(1 + e^−input) under the names `out.*`.
    fn sigmoid(&mut self, out: &str, input: &str) -> String {
        let one = self.scalar("one", 1.0);
        let neg = self.node("Neg", &format!("{out}.neg"), &[input], &[]);
        let exp = self.node("Exp", &format!("{out}.exp"), &[&neg], &[]);
        let den = self.node("Add", &format!("{out}.denominator"), &[&one, &exp], &[]);
        self.node("Reciprocal", out, &[&den], &[])
    }

    /// ln(1 + e^input) = max(input, 0) + ln(1 + e^−|input|) under the names `out.*`: finite
    /// for every input.
    fn softplus(&mut self, out: &str, input: &str) -> String {
        let (zero, one) = (self.scalar("zero", 0.0), self.scalar("one", 1.0));
        let pos = self.node("Max", &format!("{out}.positive_part"), &[input, &zero], &[]);
        let abs = self.node("Abs", &format!("{out}.abs"), &[input], &[]);
        let neg = self.node("Neg", &format!("{out}.minus_abs"), &[&abs], &[]);
        let exp = self.node("Exp", &format!("{out}.exp"), &[&neg], &[]);
        let one_plus = self.node("Add", &format!("{out}.one_plus_exp"), &[&one, &exp], &[]);
        let log = self.node("Log", &format!("{out}.log"), &[&one_plus], &[]);
        self.node("Add", out, &[&pos, &log], &[])
    }

    /// `u` where u > 0, else `negative`.
    fn positive_or(&mut self, out: &str, u: &str, negative: &str) -> String {
        let zero = self.scalar("zero", 0.0);
        let pos = self.node("Greater", &format!("{out}.positive"), &[u, &zero], &[]);
        self.node("Where", out, &[&pos, u, negative], &[])
    }
}

/// A tensor's type and shape: f64 [N, width].
fn value_info(name: &str, width: usize) -> Message {
    let mut rows = Message::new();
    rows.string(2, "N");
    let mut cols = Message::new();
    cols.int(1, width as i64);
    let mut shape = Message::new();
    shape.message(1, &rows).message(1, &cols);
    let mut tensor = Message::new();
    tensor.int(1, DOUBLE).message(2, &shape);
    let mut ty = Message::new();
    ty.message(1, &tensor);
    let mut v = Message::new();
    v.string(1, name).message(2, &ty);
    v
}

/// φ(x) from the input `x`: the raw columns as they are, or each feature computed from the
/// gathered columns and concatenated.
fn features(g: &mut Graph, features: &[Feature], inputs: usize) -> String {
    let raw = features.len() == inputs
        && features
            .iter()
            .enumerate()
            .all(|(i, f)| *f == Feature::Raw(i));
    if raw {
        return "x".into();
    }
    let column = |g: &mut Graph, j: usize| {
        let name = format!("x{}", j + 1);
        if g.constants.insert(name.clone()) {
            let index = g.column_index(j);
            g.node("Gather", &name, &["x", &index], &[int_attribute("axis", 1)]);
        }
        name
    };
    let mut outs = Vec::with_capacity(features.len());
    for (k, f) in features.iter().enumerate() {
        let out = format!("features.{k}");
        let name = match *f {
            Feature::Formula(_) => unreachable!("model_bytes refuses formula features"),
            Feature::Raw(i) => column(g, i),
            Feature::Square(i) => {
                let c = column(g, i);
                g.node("Mul", &out, &[&c, &c], &[])
            }
            Feature::Product(i, j) => {
                let (a, b) = (column(g, i), column(g, j));
                g.node("Mul", &out, &[&a, &b], &[])
            }
            Feature::Sin(i, k) | Feature::Cos(i, k) => {
                let mut c = column(g, i);
                if !k.is_one() {
                    // sin(k·x): the column scaled by the frequency first.
                    let k = g.scalar(&format!("{out}.frequency"), k.get());
                    c = g.node("Mul", &format!("{out}.scaled"), &[&c, &k], &[]);
                }
                let op = if matches!(f, Feature::Sin(..)) {
                    "Sin"
                } else {
                    "Cos"
                };
                g.node(op, &out, &[&c], &[])
            }
        };
        outs.push(name);
    }
    let refs: Vec<&str> = outs.iter().map(String::as_str).collect();
    g.node("Concat", "features", &refs, &[int_attribute("axis", 1)])
}

/// u = (z − μ)·(1/√(σ² + ε))·γ + β, as nnlab's evaluation computes it.
fn batch_norm(g: &mut Graph, p: &str, z: &str) -> String {
    let eps = g.scalar("batch_norm_eps", BN_EPS);
    let (mean, var) = (
        format!("{p}.norm.running_mean"),
        format!("{p}.norm.running_var"),
    );
    let (gamma, beta) = (format!("{p}.norm.weight"), format!("{p}.norm.bias"));
    let centred = g.node("Sub", &format!("{p}.norm.centred"), &[z, &mean], &[]);
    let var_eps = g.node("Add", &format!("{p}.norm.var_eps"), &[&var, &eps], &[]);
    let std = g.node("Sqrt", &format!("{p}.norm.std"), &[&var_eps], &[]);
    let invstd = g.node("Reciprocal", &format!("{p}.norm.invstd"), &[&std], &[]);
    let xhat = g.node("Mul", &format!("{p}.norm.xhat"), &[&centred, &invstd], &[]);
    let scaled = g.node("Mul", &format!("{p}.norm.scaled"), &[&gamma, &xhat], &[]);
    g.node("Add", &format!("{p}.norm"), &[&scaled, &beta], &[])
}

/// f = act(u) for layer `l` (prefix `p`).
fn activation(g: &mut Graph, p: &str, l: &Layer, u: &str) -> String {
    let out = format!("{p}.act");
    let sub = |s: &str| format!("{out}.{s}");
    match l.activation {
        Activation::Identity => u.to_string(),
        Activation::Step => {
            let (zero, one) = (g.scalar("zero", 0.0), g.scalar("one", 1.0));
            let minus_one = g.scalar("minus_one", -1.0);
            let nonneg = g.node("GreaterOrEqual", &sub("nonnegative"), &[u, &zero], &[]);
            g.node("Where", &out, &[&nonneg, &one, &minus_one], &[])
        }
        Activation::Sigmoid => g.sigmoid(&out, u),
        Activation::Tanh => g.node("Tanh", &out, &[u], &[]),
        Activation::Relu => {
            let zero = g.scalar("zero", 0.0);
            g.node("Max", &out, &[u, &zero], &[])
        }
        Activation::LeakyRelu | Activation::Prelu => {
            let alpha = if l.activation == Activation::Prelu {
                format!("{p}.act.weight")
            } else {
                g.scalar(&format!("{p}.act.alpha"), l.param)
            };
            let neg = g.node("Mul", &sub("scaled"), &[u, &alpha], &[]);
            g.positive_or(&out, u, &neg)
        }
        Activation::Elu => {
            let one = g.scalar("one", 1.0);
            let alpha = g.scalar(&format!("{p}.act.alpha"), l.param);
            let exp = g.node("Exp", &sub("exp"), &[u], &[]);
            let expm1 = g.node("Sub", &sub("expm1"), &[&exp, &one], &[]);
            let neg = g.node("Mul", &sub("scaled"), &[&alpha, &expm1], &[]);
            g.positive_or(&out, u, &neg)
        }
        Activation::Swish => {
            let beta = g.scalar(&format!("{p}.act.beta"), l.param);
            let bu = g.node("Mul", &sub("beta_u"), &[&beta, u], &[]);
            let s = g.sigmoid(&sub("sigmoid"), &bu);
            g.node("Mul", &out, &[u, &s], &[])
        }
        Activation::Gelu => {
            let one = g.scalar("one", 1.0);
            let half = g.scalar("half", 0.5);
            let inv_sqrt2 = g.scalar("inv_sqrt2", std::f64::consts::FRAC_1_SQRT_2);
            let scaled = g.node("Mul", &sub("scaled"), &[u, &inv_sqrt2], &[]);
            let narrow = g.node(
                "Cast",
                &sub("f32"),
                &[&scaled],
                &[int_attribute("to", FLOAT)],
            );
            let erf = g.node("Erf", &sub("erf"), &[&narrow], &[]);
            let wide = g.node("Cast", &sub("f64"), &[&erf], &[int_attribute("to", DOUBLE)]);
            let cdf = g.node("Add", &sub("one_plus_erf"), &[&one, &wide], &[]);
            let half_u = g.node("Mul", &sub("half_u"), &[&half, u], &[]);
            g.node("Mul", &out, &[&half_u, &cdf], &[])
        }
        Activation::Softplus => g.softplus(&out, u),
        Activation::Mish => {
            let sp = g.softplus(&sub("softplus"), u);
            let t = g.node("Tanh", &sub("tanh"), &[&sp], &[]);
            g.node("Mul", &out, &[u, &t], &[])
        }
        Activation::Sine => {
            let omega = g.scalar(&format!("{p}.act.omega"), l.param);
            let wu = g.node("Mul", &sub("omega_u"), &[&omega, u], &[]);
            g.node("Sin", &out, &[&wu], &[])
        }
        Activation::Softmax => g.node("Softmax", &out, &[u], &[int_attribute("axis", 1)]),
    }
}

/// The ONNX file's bytes.
pub fn model_bytes(model: &Model) -> Result<Vec<u8>> {
    // The weights' bytes, then copied into the tensor messages, the graph and the model.
    memory::check(
        "the ONNX file",
        memory::f64s(model.values()).saturating_mul(4),
    )
    .map_err(Error::new)?;
    let net = model.net;
    if let Some(f) = net
        .features
        .iter()
        .find(|f| matches!(f, Feature::Formula(_)))
    {
        return Err(Error::new(format!(
            "the feature \"{}\" is a formula, which the ONNX export does not translate (x1, x1^2, x1*x2, sin(k*x1) and cos(k*x1) it does); export to PyTorch instead",
            f.label()
        )));
    }
    let mut g = Graph::default();
    for t in model.tensors() {
        g.tensor_f64(&t.name, &t.shape, t.values);
    }
    let mut a = features(&mut g, &net.features, net.inputs);
    for (i, l) in net.layers.iter().enumerate() {
        let p = format!("layers.{i}");
        let (w, b) = (format!("{p}.linear.weight"), format!("{p}.linear.bias"));
        // MatMul and Add rather than Gemm: tract scales Gemm's bias by an f32 β, which fails
        // on f64 tensors. W is kept [units, fan_in] as in θ and transposed in the graph.
        let wt = g.node(
            "Transpose",
            &format!("{p}.linear.weight_t"),
            &[&w],
            &[ints_attribute("perm", &[1, 0])],
        );
        let aw = g.node("MatMul", &format!("{p}.linear.matmul"), &[&a, &wt], &[]);
        let z = g.node("Add", &format!("{p}.linear"), &[&aw, &b], &[]);
        let u = if l.batch_norm {
            batch_norm(&mut g, &p, &z)
        } else {
            z
        };
        let f = activation(&mut g, &p, l, &u);
        a = if l.residual {
            g.node("Add", &format!("{p}.residual"), &[&f, &a], &[])
        } else {
            f
        };
    }
    g.node("Identity", "y", &[&a], &[]);

    let mut graph = Message::new();
    for n in &g.nodes {
        graph.message(1, n);
    }
    graph.string(2, &model.name);
    for t in &g.initializers {
        graph.message(5, t);
    }
    drop(g);
    graph.string(
        10,
        &format!(
            "{}: raw inputs x [N, {}] to outputs y [N, {}] after the output activation",
            net.describe(),
            net.inputs,
            net.output_units()
        ),
    );
    graph.message(11, &value_info("x", net.inputs));
    graph.message(12, &value_info("y", net.output_units()));

    let mut opset = Message::new();
    opset.string(1, "").int(2, OPSET);
    let mut m = Message::new();
    m.int(1, IR_VERSION)
        .string(2, "nnlab")
        .string(3, env!("CARGO_PKG_VERSION"))
        .string(
            6,
            &format!(
                "{} ({}), exported by {}",
                model.name,
                net.describe(),
                producer()
            ),
        )
        .message(7, &graph)
        .message(8, &opset);
    Ok(m.into_bytes())
}
