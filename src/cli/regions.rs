//! `nnlab regions`: the exact linear regions of the session's network over an input box.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::regions::{InputBox, regions};
use crate::error::{Error, Result};
use crate::runtime::worker::plane_bounds;
use crate::session;

/// Options from the command line.
#[derive(clap::Args, Clone, Debug)]
pub struct RegionsArgs {
    /// The input box `x0,x1,y0,y1` (1-D: `x0,x1`). Default: the decision map's box (the data
    /// with an 8 % margin).
    #[arg(long = "box", value_delimiter = ',', allow_hyphen_values = true)]
    pub bounds: Option<Vec<f64>>,
    /// Add every region's polygon (2-D) or interval (1-D).
    #[arg(long)]
    pub polygons: bool,
}

pub fn regions_command(path: &Path, args: &RegionsArgs) -> Result<Value> {
    let name = session::display_name(path);
    let loaded = session::load(path)?;
    let mut t = session::trainer(&loaded).map_err(|e| e.context(&name))?;
    let d = t.net.inputs;
    let bounds = match &args.bounds {
        Some(v) => {
            let want = if d == 1 { 2 } else { 4 };
            if v.len() != want {
                return Err(Error::field(
                    "--box",
                    format!(
                        "needs {want} numbers for {d}-D inputs (x0,x1{}), got {}",
                        if d == 1 { "" } else { ",y0,y1" },
                        v.len()
                    ),
                ));
            }
            InputBox {
                x: (v[0], v[1]),
                y: if d == 1 { (0.0, 0.0) } else { (v[2], v[3]) },
            }
        }
        None => match plane_bounds(&t.train, &t.test) {
            Some((x, y)) => InputBox { x, y },
            None => {
                return Err(Error::new(format!(
                    "{name}: linear regions are drawn for 1-D or 2-D inputs (the data has {d})"
                )));
            }
        },
    };
    let bn = t.train_bn_stats();
    let out = regions(&t.net, &t.theta, bn.as_ref(), bounds).map_err(|e| e.context(&name))?;
    let patterns: Vec<String> = out.regions.iter().map(|r| r.pattern_text()).collect();
    let mut v = json!({
        "regions": out.regions.len(),
        "inputs": d,
        "box": if d == 1 { json!([bounds.x.0, bounds.x.1]) }
               else { json!([bounds.x.0, bounds.x.1, bounds.y.0, bounds.y.1]) },
        "patterns": patterns,
    });
    if d == 1 {
        v["breakpoints"] = json!(out.breakpoints());
    }
    if args.polygons {
        let polys: Vec<Value> = out
            .regions
            .iter()
            .map(|r| {
                if d == 1 {
                    json!([r.vertices[0][0], r.vertices[1][0]])
                } else {
                    json!(r.vertices)
                }
            })
            .collect();
        v["polygons"] = json!(polys);
    }
    Ok(v)
}
