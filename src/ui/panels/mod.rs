//! One file per panel or tile. Each is a struct owning its UI state, drawn by
//! `fn ui(&mut self, ui, ctx: &ViewCtx)` (the [`crate::ui::view::View`] trait, or a `tile_ui`
//! / `window_ui` taking what else it draws as explicit arguments, e.g. the output view's maps
//! for the designer). A view reads the lab through its `ViewCtx` and sends `Command`s for what
//! it wants changed; none sees the app itself. The tile state with its job thread lives in a
//! sibling module of `ui` (`ui::curvature`, `ui::landscape`, …), its drawing here.

pub mod banners;
/// Neural collapse (issue 16 §4).
pub mod collapse;
pub mod compare;
// Confusion matrices (issue 14 §4)
pub mod confusion;
pub mod curvature;
pub mod data;
pub mod depth_scale;
pub mod designer;
pub mod dialogs;
// Drawing the data on the decision map (issue 14 §4)
pub mod double_descent;
pub mod draw_tool;
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
