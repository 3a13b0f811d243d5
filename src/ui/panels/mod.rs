//! One file per panel. A converted panel is a struct owning its UI state that implements
//! [`crate::ui::view::View`]: it draws from a read-only `ViewCtx` and sends `Command`s (banners,
//! data, dialogs, lessons, model export, network, notices, output, plots, training). The others
//! (top bar, designer, timeline, export, compare, curvature, landscape, dynamics, geometry,
//! workspace) still draw from `&mut NnlabApp` and are next in line.

pub mod banners;
/// Neural collapse (issue 16 §4).
pub mod collapse;
pub mod compare;
pub mod curvature;
pub mod data;
pub mod depth_scale;
pub mod designer;
pub mod dialogs;
pub mod double_descent;
pub mod dynamics;
pub mod export;
pub mod geometry;
pub mod landscape;
/// The update as an outer product (issue 15 §4).
pub mod layer_update;
pub mod lessons;
pub mod model_export;
pub mod network;
pub mod notices;
pub mod output;
pub mod plots;
/// The depth/width sweep of linear regions (issue 15 §1).
pub mod region_sweep;
// Spectral bias (issue 15)
pub mod spectral_bias;
pub mod stability_edge;
pub mod timeline;
pub mod top_bar;
pub mod training;
pub mod workspace;
