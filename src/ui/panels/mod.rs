//! One file per panel. Each draws from the app state and pushes `Action`s.

pub mod banners;
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
pub mod lessons;
pub mod model_export;
pub mod network;
pub mod notices;
pub mod output;
pub mod plots;
pub mod timeline;
pub mod top_bar;
pub mod training;
pub mod workspace;
