//! `nnlab export`: the session's network, where it stands, as a PyTorch module or an ONNX file.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::export::{self, Format, Model};
use crate::session;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct ExportArgs {
    /// pytorch: a folder with model.py and model.safetensors; onnx: one .onnx file.
    #[arg(long, value_enum)]
    pub to: Format,
    /// The folder (pytorch, created if missing) or the file (onnx) to write.
    pub out: PathBuf,
    /// Also write the training inputs and nnlab's outputs on them (tensors `x` and `y`) to
    /// this safetensors file, to check the export in another framework.
    #[arg(long)]
    pub reference: Option<PathBuf>,
}

/// `nnlab export`: writes the session's network as PyTorch or ONNX and returns what was
/// written (the files, the network, its step and precision) as JSON.
pub fn export_command(path: &Path, args: &ExportArgs) -> Result<Value> {
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    // The session and its CSV are never overwritten by a slip of the output name.
    let csv = loaded.session.data.csv_path();
    let mut targets = export::targets(args.to, &args.out);
    targets.extend(args.reference.clone());
    for target in &targets {
        for (what, source) in [
            ("the session file", Some(path)),
            ("the session's CSV data", csv.as_deref()),
        ] {
            if let Some(source) = source
                && session::files::same_file(target, source)
            {
                return Err(Error::new(format!(
                    "{} is {what}; the export would overwrite it",
                    target.display()
                )));
            }
        }
    }
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let model = Model::new(&loaded.session.name, &t.net, &t.theta, &t.train)
        .map_err(|e| e.context(&name))?;
    let written = export::write(&model, args.to, &args.out)?;
    drop(model);
    if let Some(r) = &args.reference {
        let rows = t.train.rows();
        let x = t.train.x.clone();
        let y = t.predict(&x, rows);
        session::write_atomic(r, &export::reference_bytes(&t.net, &x, &y)?)?;
    }
    let files: Vec<String> = written
        .files
        .iter()
        .chain(&args.reference)
        .map(|p| p.display().to_string())
        .collect();
    Ok(json!({
        "format": args.to.name(),
        "files": files,
        "network": t.net.describe(),
        "params": t.net.n_params,
        "step": t.step,
        "inputs": t.net.inputs,
        "outputs": t.net.output_units(),
        "precision": written.precision,
    }))
}
