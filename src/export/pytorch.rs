//! PyTorch: a folder with `model.py`, a self-contained `torch.nn.Module` that builds the same
//! network, and `model.safetensors` with its weights (f64, bit for bit θ's values).
//!
//! `model.py` needs only PyTorch: it reads the safetensors file itself (an 8-byte length, a
//! JSON header, the little-endian numbers). Where PyTorch's own module would differ from
//! nnlab's function it spells nnlab's out: softplus (torch returns u above 20, an error of
//! 2e-9 at u = 20), step, swish with its β, and dropout without rescaling.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::net::Activation;
use crate::net::features::Feature;
use crate::net::network::{BN_EPS, Layer};
use crate::net::spec::DropoutScaling;
use crate::session;

use super::{Model, Written, exact, safetensors_file};

/// The module's file name.
pub const MODEL_PY: &str = "model.py";
/// The weights' file name.
pub const WEIGHTS: &str = "model.safetensors";

/// Write `model.py` and `model.safetensors` into the folder `dir` (created when missing; its
/// parent must exist).
pub fn write(model: &Model, dir: &Path) -> Result<Written> {
    prepare_folder(dir)?;
    let weights = safetensors_bytes(model)?;
    let py = model_py(model);
    let (py_path, weights_path) = (dir.join(MODEL_PY), dir.join(WEIGHTS));
    session::write_atomic(&weights_path, &weights)?;
    session::write_atomic(&py_path, py.as_bytes())?;
    Ok(Written {
        files: vec![py_path, weights_path],
        precision: "f64".into(),
    })
}

/// `dir` as a folder to write into: an existing folder, or a new one in an existing folder.
fn prepare_folder(dir: &Path) -> Result<()> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::new(format!(
            "{shown}: is a file; PyTorch export writes a folder (model.py and model.safetensors)"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir(dir)
            .map_err(|e| Error::new(format!("{shown}: could not create the folder: {e}"))),
        Err(e) => Err(Error::new(format!("{shown}: {e}"))),
    }
}

/// The safetensors file: every tensor of the model as F64, the network in the metadata.
pub fn safetensors_bytes(model: &Model) -> Result<Vec<u8>> {
    safetensors_file(&model.tensors(), "pt", &model.net.describe())
}

pub(crate) fn producer() -> String {
    format!("nnlab {}", env!("CARGO_PKG_VERSION"))
}

/// Text safe inside a Python docstring or comment: no control characters, no quote or
/// backslash that could end or escape it.
fn python_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            '"' => '\'',
            '\\' => '/',
            c => c,
        })
        .collect()
}

/// The feature as a Python expression of the raw columns `x[:, j]`.
fn feature_expr(f: &Feature) -> String {
    let col = |j: usize| format!("x[:, {j}]");
    match *f {
        Feature::Formula(ref formula) => formula
            .render(&col, &torch_constant, &torch_call)
            .expect("a feature formula is a number"),
        Feature::Raw(i) => col(i),
        Feature::Square(i) => format!("{} * {}", col(i), col(i)),
        Feature::Product(i, j) => format!("{} * {}", col(i), col(j)),
        Feature::Sin(i, k) if k.is_one() => format!("torch.sin({})", col(i)),
        Feature::Cos(i, k) if k.is_one() => format!("torch.cos({})", col(i)),
        // repr-style float literal: Rust's shortest round-trip form is valid Python.
        Feature::Sin(i, k) => format!("torch.sin({:?} * {})", k.get(), col(i)),
        Feature::Cos(i, k) => format!("torch.cos({:?} * {})", k.get(), col(i)),
    }
}

/// A constant of a feature formula: a float64 tensor (a bare float would not go through
/// `torch.sin` and friends); repr-style literals are Rust's shortest round-trip form.
fn torch_constant(v: f64) -> String {
    let v = if v.is_finite() {
        format!("{v:?}")
    } else {
        format!("float('{v}')")
    };
    format!("torch.tensor({v}, dtype=torch.float64)")
}

/// An operation of a feature formula in torch, as nnlab evaluates it.
fn torch_call(name: &str, a: &[String]) -> String {
    match (name, a) {
        ("add", [x, y]) => format!("({x} + {y})"),
        ("sub", [x, y]) => format!("({x} - {y})"),
        ("mul", [x, y]) => format!("({x} * {y})"),
        ("div", [x, y]) => format!("({x} / {y})"),
        ("neg", [x]) => format!("(-{x})"),
        ("ln" | "log", [x]) => format!("torch.log({x})"),
        // f64::round rounds halves away from zero; torch.round rounds them to even.
        ("round", [x]) => format!("(torch.sign({x}) * torch.floor(torch.abs({x}) + 0.5))"),
        ("min" | "max", [first, rest @ ..]) => {
            let op = if name == "min" { "minimum" } else { "maximum" };
            rest.iter()
                .fold(first.clone(), |acc, y| format!("torch.{op}({acc}, {y})"))
        }
        // The rest have torch functions of the same name and meaning.
        (f, args) => format!("torch.{f}({})", args.join(", ")),
    }
}

/// The activation module of a layer.
fn activation_expr(l: &Layer) -> String {
    match l.activation {
        Activation::Identity => "nn.Identity()".into(),
        Activation::Step => "Step()".into(),
        Activation::Sigmoid => "nn.Sigmoid()".into(),
        Activation::Tanh => "nn.Tanh()".into(),
        Activation::Relu => "nn.ReLU()".into(),
        Activation::LeakyRelu => format!("nn.LeakyReLU({})", exact(l.param)),
        Activation::Prelu => format!("nn.PReLU({}, dtype=torch.float64)", l.units),
        Activation::Elu => format!("nn.ELU({})", exact(l.param)),
        Activation::Swish => format!("Swish({})", exact(l.param)),
        Activation::Gelu => "nn.GELU()".into(),
        Activation::Softplus => "Softplus()".into(),
        Activation::Mish => "nn.Mish()".into(),
        Activation::Sine => format!("Sine({})", exact(l.param)),
        Activation::Softmax => "nn.Softmax(dim=1)".into(),
    }
}

/// The `Layer(...)` constructor of layer `l`.
fn layer_expr(l: &Layer) -> String {
    let mut s = format!("Layer({}, {}, {}", l.fan_in, l.units, activation_expr(l));
    if l.batch_norm {
        s.push_str(", norm=True");
    }
    if l.dropout > 0.0 {
        let p = exact(l.dropout);
        match l.dropout_scaling {
            DropoutScaling::Inverted => write!(s, ", dropout=nn.Dropout({p})"),
            DropoutScaling::None => write!(s, ", dropout=UnscaledDropout({p})"),
        }
        .expect("writing to a String");
    }
    if l.residual {
        s.push_str(", residual=True");
    }
    s.push(')');
    s
}

/// What one line of the layer list says about the layer.
fn layer_comment(i: usize, l: &Layer, last: bool) -> String {
    let mut s = format!(
        "layers[{i}]: {} {}{}",
        l.units,
        l.activation.name(),
        if last { " (output)" } else { "" }
    );
    if l.batch_norm {
        s.push_str(", BatchNorm");
    }
    if l.dropout > 0.0 {
        s.push_str(&format!(", dropout {}", exact(l.dropout)));
        if l.dropout_scaling == DropoutScaling::None {
            s.push_str(" (not rescaled)");
        }
    }
    if l.residual {
        s.push_str(", residual");
    }
    s
}

/// The text of `model.py`.
pub fn model_py(model: &Model) -> String {
    let net = model.net;
    let uses = |a: Activation| net.layers.iter().any(|l| l.activation == a);
    let raw_features = net.features.len() == net.inputs
        && net
            .features
            .iter()
            .enumerate()
            .all(|(i, f)| *f == Feature::Raw(i));
    let mut py = String::new();
    let mut line = |s: &str| {
        py.push_str(s);
        py.push('\n');
    };
    line(&format!(
        "\"\"\"{}: a network exported by {}.",
        python_text(&model.name),
        producer()
    ));
    line("");
    line(&format!("    {}", python_text(&net.describe())));
    line("");
    line("load() builds it as a torch.nn.Module in float64 with the weights of model.safetensors");
    line("beside this file, in evaluation mode. It maps raw inputs, a float64 tensor");
    line(&format!(
        "[N, {}] (before the input features), to what nnlab's network outputs, [N, {}] (after",
        net.inputs,
        net.output_units()
    ));
    line(
        "the output activation). BatchNorm holds the statistics of the whole training set at these",
    );
    line("weights (what nnlab evaluates with); dropout acts only in train mode.");
    line("");
    line("Needs PyTorch and nothing else: read_safetensors below reads the weights.");
    line("\"\"\"");
    line("");
    line("import json");
    line("import os");
    line("import sys");
    line("");
    line("import torch");
    line("from torch import nn");
    line("");
    line(&format!("INPUTS = {}", net.inputs));
    line(&format!("OUTPUTS = {}", net.output_units()));
    line("");
    line("");
    line("def read_safetensors(path):");
    line("    \"\"\"The float64 tensors of a safetensors file, by name.\"\"\"");
    line("    if sys.byteorder != \"little\":");
    line(
        "        raise RuntimeError(\"safetensors holds little-endian numbers; this reader needs a little-endian machine\")",
    );
    line("    with open(path, \"rb\") as f:");
    line("        data = f.read()");
    line("    n = int.from_bytes(data[:8], \"little\")");
    line("    header = json.loads(data[8 : 8 + n])");
    line("    header.pop(\"__metadata__\", None)");
    line("    tensors = {}");
    line("    for name, info in header.items():");
    line("        if info[\"dtype\"] != \"F64\":");
    line("            raise ValueError(f\"{path}: {name} is {info['dtype']}, expected F64\")");
    line("        begin, end = info[\"data_offsets\"]");
    line(
        "        values = torch.frombuffer(bytearray(data[8 + n + begin : 8 + n + end]), dtype=torch.float64)",
    );
    line("        tensors[name] = values.reshape(info[\"shape\"])");
    line("    return tensors");
    line("");
    line("");
    if uses(Activation::Step) {
        line("class Step(nn.Module):");
        line("    \"\"\"sign(u) in {-1, +1}, +1 at 0: the perceptron unit.\"\"\"");
        line("");
        line("    def forward(self, u):");
        line("        return torch.where(u >= 0, torch.ones_like(u), -torch.ones_like(u))");
        line("");
        line("");
    }
    if uses(Activation::Swish) {
        line("class Swish(nn.Module):");
        line("    \"\"\"u * sigmoid(beta * u).\"\"\"");
        line("");
        line("    def __init__(self, beta):");
        line("        super().__init__()");
        line("        self.beta = beta");
        line("");
        line("    def forward(self, u):");
        line("        return u * torch.sigmoid(self.beta * u)");
        line("");
        line("");
    }
    if uses(Activation::Sine) {
        line("class Sine(nn.Module):");
        line("    \"\"\"sin(omega * u): the SIREN unit.\"\"\"");
        line("");
        line("    def __init__(self, omega):");
        line("        super().__init__()");
        line("        self.omega = omega");
        line("");
        line("    def forward(self, u):");
        line("        return torch.sin(self.omega * u)");
        line("");
        line("");
    }
    if uses(Activation::Softplus) {
        line("class Softplus(nn.Module):");
        line(
            "    \"\"\"ln(1 + e^u) as max(u, 0) + log1p(e^-|u|), exact for every u (torch's softplus",
        );
        line("    returns u above its threshold of 20, 2e-9 off there).\"\"\"");
        line("");
        line("    def forward(self, u):");
        line("        return torch.clamp(u, min=0) + torch.log1p(torch.exp(-u.abs()))");
        line("");
        line("");
    }
    if net
        .layers
        .iter()
        .any(|l| l.dropout > 0.0 && l.dropout_scaling == DropoutScaling::None)
    {
        line("class UnscaledDropout(nn.Module):");
        line("    \"\"\"Dropout that does not rescale the kept units while training (nnlab's");
        line("    dropout_scaling \"none\"); the identity in evaluation mode.\"\"\"");
        line("");
        line("    def __init__(self, p):");
        line("        super().__init__()");
        line("        self.p = p");
        line("");
        line("    def forward(self, a):");
        line("        if not self.training:");
        line("            return a");
        line("        return a * (torch.rand_like(a) >= self.p).to(a.dtype)");
        line("");
        line("");
    }
    line("class Features(nn.Module):");
    if raw_features {
        line("    \"\"\"The first layer sees the raw columns.\"\"\"");
        line("");
        line("    def forward(self, x):");
        line("        return x");
    } else {
        line(
            "    \"\"\"phi(x): the input features the first layer sees, from the raw columns.\"\"\"",
        );
        line("");
        line("    def forward(self, x):");
        line("        return torch.stack(");
        line("            [");
        for f in &net.features {
            line(&format!(
                "                {},  # {}",
                feature_expr(f),
                f.label()
            ));
        }
        line("            ],");
        line("            dim=1,");
        line("        )");
    }
    line("");
    line("");
    line("class Layer(nn.Module):");
    line(
        "    \"\"\"u = norm(linear(a)); a' = dropout(act(u) + a if residual else act(u)), as nnlab computes it.\"\"\"",
    );
    line("");
    line("    def __init__(self, fan_in, units, act, norm=False, dropout=None, residual=False):");
    line("        super().__init__()");
    line("        self.linear = nn.Linear(fan_in, units, dtype=torch.float64)");
    line(&format!(
        "        self.norm = nn.BatchNorm1d(units, eps={}, dtype=torch.float64) if norm else None",
        exact(BN_EPS)
    ));
    line("        self.act = act");
    line("        self.dropout = dropout");
    line("        self.residual = residual");
    line("");
    line("    def forward(self, a):");
    line("        u = self.linear(a)");
    line("        if self.norm is not None:");
    line("            u = self.norm(u)");
    line("        out = self.act(u)");
    line("        if self.residual:");
    line("            out = out + a");
    line("        if self.dropout is not None:");
    line("            out = self.dropout(out)");
    line("        return out");
    line("");
    line("");
    line("class Net(nn.Module):");
    line(&format!("    \"\"\"{}\"\"\"", python_text(&net.describe())));
    line("");
    line("    def __init__(self):");
    line("        super().__init__()");
    line("        self.features = Features()");
    line("        self.layers = nn.ModuleList(");
    line("            [");
    let last = net.layers.len() - 1;
    for (i, l) in net.layers.iter().enumerate() {
        line(&format!(
            "                # {}",
            layer_comment(i, l, i == last)
        ));
        line(&format!("                {},", layer_expr(l)));
    }
    line("            ]");
    line("        )");
    line("");
    line("    def forward(self, x):");
    line("        if x.dim() != 2 or x.shape[1] != INPUTS:");
    line(
        "            raise ValueError(f\"expected raw inputs [N, {INPUTS}], got {tuple(x.shape)}\")",
    );
    line("        a = self.features(x)");
    line("        for layer in self.layers:");
    line("            a = layer(a)");
    line("        return a");
    line("");
    line("");
    line("def load(path=None) -> torch.nn.Module:");
    line(
        "    \"\"\"The network with the weights of `path` (model.safetensors beside this file), float64,",
    );
    line("    in evaluation mode.\"\"\"");
    line("    if path is None:");
    line(
        "        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), \"model.safetensors\")",
    );
    line("    net = Net()");
    line("    missing, unexpected = net.load_state_dict(read_safetensors(path), strict=False)");
    line("    # BatchNorm's batch counter is not part of the network.");
    line("    missing = [k for k in missing if not k.endswith(\"num_batches_tracked\")]");
    line("    if missing or unexpected:");
    line(
        "        raise ValueError(f\"{path} does not fit this network: missing {missing}, unexpected {unexpected}\")",
    );
    line("    return net.eval()");
    py
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_break_out_of_a_docstring() {
        assert_eq!(python_text("a\"\"\"b\\c\nd"), "a'''b/c d");
    }

    #[test]
    fn features_are_python_expressions() {
        assert_eq!(feature_expr(&Feature::Square(1)), "x[:, 1] * x[:, 1]");
        assert_eq!(feature_expr(&Feature::Product(0, 1)), "x[:, 0] * x[:, 1]");
        assert_eq!(
            feature_expr(&Feature::Cos(0, crate::net::features::Frequency::ONE)),
            "torch.cos(x[:, 0])"
        );
        use crate::net::features::Frequency;
        let five = Frequency::new(5.0).unwrap();
        assert_eq!(
            feature_expr(&Feature::Sin(1, five)),
            "torch.sin(5.0 * x[:, 1])"
        );
        // A formula: every operation as torch writes it, constants as float64 tensors.
        let f = Feature::parse("exp(-x1^2) + max(x2, 0.5, x1) % 2 - round(x2)", 2, "f").unwrap();
        let c = |v: &str| format!("torch.tensor({v}, dtype=torch.float64)");
        assert_eq!(
            feature_expr(&f),
            format!(
                "((torch.exp((-torch.pow(x[:, 0], {two}))) + torch.fmod(torch.maximum(torch.maximum(x[:, 1], {half}), x[:, 0]), {two})) - (torch.sign(x[:, 1]) * torch.floor(torch.abs(x[:, 1]) + 0.5)))",
                two = c("2.0"),
                half = c("0.5")
            )
        );
    }
}
