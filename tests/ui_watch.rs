//! Watching the default session learn, through egui_kittest: the default speed and full speed
//! one click away; the decision map and the neuron maps computed at least as fine as the
//! pixels they cover (up to 256 a side), following the tile's size; and the views staying
//! where they are while training starts and stops and notices come and go, so one click on a
//! tile's control always takes.

mod common_ui;

use std::time::{Duration, Instant};

use common_ui::{drawn_images, harness, harness_sized, settle};
use eframe::egui::{self, Rect};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::runtime::worker::{OutputMap, Speed};
use nnlab::ui::NnlabApp;
use nnlab::ui::panels::plots::Tile;

#[test]
fn the_default_speed_is_watchable_and_full_speed_is_one_click_away() {
    let mut h = harness(None);
    assert_eq!(h.state().lab().speed(), Speed::PerSecond(250.0));
    let start = Instant::now();
    h.get_by_label("▶ Play").click();
    assert!(settle(&mut h, |a| a.lab().status().step >= 300));
    // The limiter never runs ahead of 250 steps a second (it may fall behind under load).
    let (step, elapsed) = (h.state().lab().status().step, start.elapsed().as_secs_f64());
    assert!(
        step as f64 <= 250.0 * elapsed + 20.0,
        "{step} steps in {elapsed:.2} s"
    );
    h.get_by_label("Full speed").click();
    h.run_steps(1);
    assert_eq!(
        h.state().lab().speed(),
        Speed::Max,
        "one click did not take"
    );
    assert!(
        settle(&mut h, |a| a.lab().status().steps_per_sec > 2000.0),
        "full speed is not faster: {} steps/s",
        h.state().lab().status().steps_per_sec
    );
    h.get_by_label("Full speed").click();
    h.run_steps(1);
    assert_eq!(h.state().lab().speed(), Speed::PerSecond(250.0));
}

fn tile_rect(app: &NnlabApp, tile: Tile) -> Rect {
    app.views()
        .export
        .rects
        .iter()
        .find(|(t, _)| *t == tile)
        .map(|(_, r)| *r)
        .unwrap()
}

/// The largest map drawn inside `area` (points).
fn largest_image(h: &Harness<'static, NnlabApp>, area: Rect) -> Rect {
    drawn_images(h)
        .into_iter()
        .filter(|r| area.intersects(*r))
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .expect("a map is drawn")
}

/// The snapshot's decision-map side and neuron-map side.
fn sides(app: &NnlabApp) -> Option<(usize, usize)> {
    let s = app.lab().snapshot()?;
    match s.output {
        OutputMap::Grid { side, .. } => Some((side, s.map_side)),
        _ => None,
    }
}

#[test]
fn the_maps_are_as_fine_as_the_pixels_they_cover() {
    let mut wanted = Vec::new();
    for size in [(760.0, 520.0), (1600.0, 1000.0)] {
        let mut h = harness_sized(None, egui::vec2(size.0, size.1));
        h.run_steps(4);
        let ppp = h.ctx.pixels_per_point();
        let map = largest_image(&h, tile_rect(h.state(), Tile::Output));
        let map_px = (map.width().max(map.height()) * ppp).ceil() as usize;
        let canvas = h.get_by_label("Network diagram").rect();
        let node = drawn_images(&h)
            .into_iter()
            .filter(|r| canvas.contains_rect(*r))
            .map(|r| (r.width().max(r.height()) * ppp).ceil() as usize)
            .max()
            .expect("neuron maps are drawn");
        // At least one grid point per pixel, at most 256 a side (and less than 8 more than
        // the pixels: grids are asked for in steps of 8).
        let fine = |side: usize, px: usize| side >= px.min(256) && side <= 256 && side < px + 8;
        assert!(
            settle(&mut h, |a| sides(a)
                .is_some_and(|(o, n)| fine(o, map_px) && fine(n, node))),
            "{size:?}: map {map_px} px, nodes {node} px, snapshot sides {:?}",
            sides(h.state())
        );
        wanted.push(map_px);
        // The hovered unit comes back at the decision map's resolution.
        let (unit, r) = h.state().views().designer.diagram.nodes[0];
        h.hover_at(r.center());
        h.run_steps(2);
        assert_eq!(h.state().views().designer.hovered_neuron, Some((0, unit.1)));
        let (side, _) = sides(h.state()).unwrap();
        assert!(
            settle(&mut h, |a| a.lab().snapshot().is_some_and(|s| s
                .focus
                .as_ref()
                .is_some_and(
                    |f| f.unit == (0, unit.1) && f.values.len() == side * side
                ))),
            "{size:?}: no map of the hovered unit"
        );
    }
    assert!(
        wanted[0] < 256,
        "the small window's map is below 256 pixels: {wanted:?}"
    );
    assert!(
        wanted[0] < wanted[1],
        "the map grows with the window: {wanted:?}"
    );
}

#[test]
fn the_views_stay_put_while_training_starts_and_stops_and_notices_come_and_go() {
    let mut h = harness(None);
    h.run_steps(2);
    // Controls of the tiles in view at start (the others are tabs behind them).
    let labels = ["Analyse now", "Discretise", "Fit"];
    let places = |h: &Harness<'static, NnlabApp>| -> Vec<Rect> {
        labels.iter().map(|l| h.get_by_label(l).rect()).collect()
    };
    let first = places(&h);
    assert!(
        h.query_by_label_contains("Network rebuilt").is_some(),
        "the start's notice is showing"
    );
    h.get_by_label("▶ Play").click();
    assert!(settle(&mut h, |a| a.lab().status().running
        && a.lab().status().step > 0));
    assert_eq!(places(&h), first, "a view moved when training started");
    h.get_by_label("‖ Pause").click();
    assert!(settle(&mut h, |a| !a.lab().status().running));
    assert_eq!(places(&h), first, "a view moved when training stopped");
    // Once the notice has expired.
    let built = h.state().lab().rebuilt_at().unwrap();
    std::thread::sleep(Duration::from_millis(2600).saturating_sub(built.elapsed()));
    h.run_steps(2);
    assert!(h.query_by_label_contains("Network rebuilt").is_none());
    assert_eq!(places(&h), first, "a view moved when the notice went");
    // And one click on a tile's control takes.
    h.get_by_label("Analyse now").click();
    assert!(settle(&mut h, |a| a.views().curvature.last.is_some()));
}
