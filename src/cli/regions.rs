//! `nnlab regions`: the exact linear regions of the session's network over an input box.

use std::path::Path;

use serde_json::{Value, json};

use crate::analysis::region_sweep::{self, Sweep};
use crate::analysis::regions::{InputBox, regions};
use crate::error::{Error, Result};
use crate::runtime::worker::plane_bounds;
use crate::session;
use crate::train::Trainer;

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
    /// Count the regions against depth (hidden layers as wide as the first) or against width
    /// (every hidden layer's units) instead, over several initialisations.
    #[arg(long, value_enum)]
    pub sweep: Option<Sweep>,
    /// The depths or widths of the sweep (default: depths 1,2,3,4; widths 2,4,8,16).
    #[arg(long, value_delimiter = ',', requires = "sweep")]
    pub values: Option<Vec<usize>>,
    /// Initialisations per architecture (seeds: the session's, +1, …).
    #[arg(long, default_value_t = 5, requires = "sweep")]
    pub inits: usize,
    /// Training steps before counting (0: at initialisation).
    #[arg(long, default_value_t = 0, requires = "sweep")]
    pub steps: u64,
}

/// Most initialisations per architecture.
pub const MAX_INITS: usize = 100;
/// Most training steps per run of a sweep.
pub const MAX_SWEEP_STEPS: u64 = 1_000_000;

/// `nnlab regions`: the exact linear regions over the input box (or a depth/width sweep), as
/// JSON.
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
    if let Some(sweep) = args.sweep {
        return sweep_command(&loaded, sweep, args, bounds).map_err(|e| e.context(&name));
    }
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

/// `--sweep`: each architecture trained `--steps` steps from `--inits` seeds, its regions
/// counted over `bounds`.
fn sweep_command(
    loaded: &session::Loaded,
    sweep: Sweep,
    args: &RegionsArgs,
    bounds: InputBox,
) -> Result<Value> {
    if !(1..=MAX_INITS).contains(&args.inits) {
        return Err(Error::field(
            "--inits",
            format!("must be 1 to {MAX_INITS} (got {})", args.inits),
        ));
    }
    if args.steps > MAX_SWEEP_STEPS {
        return Err(Error::field(
            "--steps",
            format!("must be at most {MAX_SWEEP_STEPS} (got {})", args.steps),
        ));
    }
    let values = args
        .values
        .clone()
        .unwrap_or_else(|| region_sweep::default_values(sweep));
    let specs = region_sweep::architectures(&loaded.session.network, sweep, &values)?;
    let mut rows = Vec::with_capacity(specs.len());
    for (spec, v) in specs.iter().zip(&values) {
        let label = match sweep {
            Sweep::Depth => format!("depth {v}"),
            Sweep::Width => format!("width {v}"),
        };
        let mut counts = Vec::with_capacity(args.inits);
        for i in 0..args.inits as u64 {
            let mut config = loaded.session.trainer_config();
            config.network = spec.clone();
            config.seed = loaded.session.seed.wrapping_add(i);
            let mut t = Trainer::new(&config, loaded.train.clone(), loaded.test.clone(), None)
                .map_err(|e| e.context(&label))?;
            t.collect_stats = false;
            for _ in 0..args.steps {
                if t.step().diverged {
                    return Err(Error::new(format!(
                        "{label}, seed {}: training diverged; lower optimizer.lr",
                        config.seed
                    )));
                }
            }
            let bn = t.train_bn_stats();
            let r =
                regions(&t.net, &t.theta, bn.as_ref(), bounds).map_err(|e| e.context(&label))?;
            counts.push(r.regions.len());
        }
        rows.push(region_sweep::row(spec, counts));
    }
    Ok(json!({
        "sweep": sweep,
        "steps": args.steps,
        "inits": args.inits,
        "box": if loaded.train.inputs == 1 { json!([bounds.x.0, bounds.x.1]) }
               else { json!([bounds.x.0, bounds.x.1, bounds.y.0, bounds.y.1]) },
        "rows": rows,
    }))
}
