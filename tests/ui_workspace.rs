//! The dockable workspace through egui_kittest: presets and Reset layout from the Layout menu,
//! a tab dragged to another group, the layout, theme and language restored from the state
//! folder at the next start, a broken layout file, and room and titles at 1280×800.

mod common_ui;

use std::path::PathBuf;

use common_ui::{harness_in, open_tab};
use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::ui::NnlabApp;
use nnlab::ui::command::Command;
use nnlab::ui::i18n::Lang;
use nnlab::ui::workspace::Tile;
use nnlab::ui::workspace::layout::{Node, Preset};

const BIG: egui::Vec2 = egui::vec2(1600.0, 1000.0);
const SMALL: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// A fresh state folder of this test's own.
fn state(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nnlab-ui-workspace-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Layout ▸ `item`, as a person picks it.
fn layout_menu(h: &mut Harness<'static, NnlabApp>, item: &str) {
    h.get_by_label("Layout").click();
    h.run_steps(2);
    h.get_by_label(item).click();
    h.run_steps(3);
}

/// The tab group (its tiles in order) that holds `tile`.
fn group_of(node: &Node, tile: Tile) -> Option<Vec<Tile>> {
    match node {
        Node::Pane(_) => None,
        Node::Tabs { tabs, .. } => {
            let panes: Vec<Tile> = tabs
                .iter()
                .filter_map(|n| match n {
                    Node::Pane(t) => Some(*t),
                    _ => None,
                })
                .collect();
            if panes.contains(&tile) {
                Some(panes)
            } else {
                tabs.iter().find_map(|n| group_of(n, tile))
            }
        }
        Node::Row(parts) | Node::Column(parts) => {
            parts.iter().find_map(|p| group_of(&p.node, tile))
        }
        Node::Grid(cells) => cells.iter().find_map(|n| group_of(n, tile)),
    }
}

/// Where `tile` was drawn in the last frame, with its tab bar.
fn drawn_rect(app: &NnlabApp, tile: Tile) -> Option<egui::Rect> {
    app.views()
        .export
        .rects
        .iter()
        .find(|(t, _)| *t == tile)
        .map(|(_, r)| *r)
}

#[test]
fn a_dragged_tab_joins_another_group_and_the_layout_comes_back_at_the_next_start() {
    let dir = state("restore");
    let layout = {
        let mut h = harness_in(None, dir.clone(), BIG);
        assert_eq!(h.state().workspace().layout(), Preset::Train.node());
        // Drag the Accuracy tab onto the tab bar of the decision map.
        let from = h
            .get_by_role_and_label(Role::Tab, "Accuracy (R² for regression)")
            .rect()
            .center();
        let to = h
            .get_by_role_and_label(Role::Tab, "Output")
            .rect()
            .right_center()
            + egui::vec2(30.0, 0.0);
        h.drag_at(from);
        h.run_steps(1);
        for k in 1..=6 {
            h.hover_at(from + (to - from) * (k as f32 / 6.0));
            h.run_steps(1);
        }
        h.drop_at(to);
        h.run_steps(3);
        let layout = h.state().workspace().layout();
        let output_group = group_of(&layout, Tile::Output).unwrap();
        assert!(
            output_group.contains(&Tile::Accuracy),
            "Accuracy did not join the Output tabs: {output_group:?}"
        );
        assert!(
            !group_of(&layout, Tile::Loss)
                .unwrap()
                .contains(&Tile::Accuracy)
        );
        // A tab picked, the light theme and 中文 are remembered too.
        open_tab(&mut h, "Training dynamics");
        h.get_by_label("Light").click();
        h.run_steps(2);
        h.get_by_label("中文").click();
        h.run_steps(2);
        h.state().workspace().layout()
        // Closing the app writes the state folder's workspace file.
    };
    assert!(dir.join("workspace.json").is_file());
    let h = harness_in(None, dir, BIG);
    let app = h.state();
    assert_eq!(app.workspace().layout(), layout);
    assert!(app.workspace().shown().contains(&Tile::Dynamics));
    assert!(!app.settings().dark());
    assert_eq!(app.settings().lang(), Lang::Zh);
}

#[test]
fn a_broken_or_foreign_layout_file_gives_the_default_layout() {
    let dir = state("broken");
    let all_tiles_twice = {
        let tabs: Vec<String> = Tile::ALL
            .iter()
            .chain(&Tile::ALL)
            .map(|t| format!("{{\"pane\":\"{}\"}}", t.key()))
            .collect();
        format!(
            r#"{{"version":1,"dark":false,"layout":{{"tabs":{{"tabs":[{}],"active":0}}}}}}"#,
            tabs.join(",")
        )
    };
    for (text, dark) in [
        ("{\"version\": 1, \"layout\": {\"row\": [", true),
        ("\u{0}\u{1}binary", true),
        (
            r#"{"version":0,"dark":false,"layout":{"pane":"loss"}}"#,
            false,
        ),
        (all_tiles_twice.as_str(), false),
    ] {
        std::fs::write(dir.join("workspace.json"), text).unwrap();
        let h = harness_in(None, dir.clone(), BIG);
        assert_eq!(
            h.state().workspace().layout(),
            Preset::Train.node(),
            "{text}"
        );
        // What could be read of the file still is.
        assert_eq!(h.state().settings().dark(), dark, "{text}");
    }
}

#[test]
fn reset_layout_restores_the_default() {
    let mut h = harness_in(None, state("reset"), BIG);
    layout_menu(&mut h, "Curvature");
    assert_eq!(h.state().workspace().layout(), Preset::Curvature.node());
    open_tab(&mut h, "Function geometry");
    h.get_by_label("Enlarge: Function geometry").click();
    h.run_steps(2);
    assert!(h.state().workspace().enlarged.is_some());
    layout_menu(&mut h, "Reset layout");
    assert_eq!(h.state().workspace().layout(), Preset::Train.node());
    assert_eq!(h.state().workspace().enlarged, None);
}

#[test]
fn each_analysis_preset_gives_its_tile_room_at_1280_by_800() {
    let mut h = harness_in(None, state("room"), SMALL);
    for (preset, name) in [
        (Preset::Curvature, "Curvature"),
        (Preset::Landscape, "Landscape"),
        (Preset::Dynamics, "Dynamics"),
        (Preset::Geometry, "Geometry"),
    ] {
        layout_menu(&mut h, name);
        let tile = preset.focus().unwrap();
        assert!(h.state().workspace().shown().contains(&tile), "{name}");
        let r = drawn_rect(h.state(), tile).unwrap_or_else(|| panic!("{name} not drawn"));
        // The room the Curvature tile needs to show all its plots at once (760×420 inside
        // its margins, below the tab bar).
        assert!(
            r.width() >= 772.0 && r.height() >= 24.0 + 432.0,
            "{name} has {} × {}",
            r.width(),
            r.height()
        );
    }
}

#[test]
fn no_tab_title_is_cut_at_1280_by_800_in_any_preset_or_language() {
    let mut h = harness_in(None, state("titles"), SMALL);
    for lang in ["English", "中文"] {
        h.get_by_label(lang).click();
        h.run_steps(2);
        for preset in Preset::ALL {
            h.state_mut().send(Command::Preset(preset));
            h.run_steps(3);
            let app = h.state();
            assert_eq!(app.workspace().cut_titles, [], "{preset:?} in {lang}");
            // Every tile is in the tree, findable by its full title (its tab's name).
            for t in Tile::ALL {
                let title = app.settings().lang().t(t.title());
                assert!(
                    h.query_by_role_and_label(Role::Tab, title).is_some(),
                    "{title} in {preset:?}"
                );
            }
        }
    }
}

#[test]
fn a_short_tab_shows_its_full_title_on_hover() {
    let mut h = harness_in(None, state("hover"), SMALL);
    // At 1280×800 the plot tabs write short titles.
    let full = "Gradient norm per layer";
    assert!(h.query_by_label_contains("Gradients").is_none());
    h.get_by_role_and_label(Role::Tab, full).hover();
    h.run_steps(8);
    assert!(
        h.query_all_by_label(full).count() >= 2,
        "the hover text repeats the full title"
    );
}
