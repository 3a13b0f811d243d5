//! Readable at any depth and width, through egui_kittest: lesson r09 (nine sigmoid layers of
//! 32 units and an output) at 1600×1000 and 1280×800, in English and 中文. The diagram's column
//! headers never overlap, the collapsed layers show a strip of their units' maps, the
//! per-layer plots show a depth scale instead of a legend row per layer, and with no test set
//! (its test fraction is 0) no drawn text reads "NaN". What is checked is what the frame drew.

mod common_ui;

use common_ui::{drawn_images, drawn_texts, harness_sized, settle};
use eframe::egui::{self, Rect};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nnlab::ui::NnlabApp;
use nnlab::ui::command::Command;
use nnlab::ui::i18n::Lang;
use nnlab::ui::panels::plots::Tile;

const SIZES: [(f32, f32); 2] = [(1600.0, 1000.0), (1280.0, 800.0)];

fn r09(size: (f32, f32)) -> Harness<'static, NnlabApp> {
    let file = std::path::PathBuf::from("sessions/lessons/r09_vanishing_gradients.json");
    let mut h = harness_sized(Some(file), egui::vec2(size.0, size.1));
    assert!(
        settle(&mut h, |a| a.lab().n_params() > 0
            && a.lab().applied().network.layers.len() == 10),
        "r09 did not open"
    );
    h
}

/// Train 10 steps (one press of +10) and wait for the evaluation of step 10.
fn train_10(h: &mut Harness<'static, NnlabApp>) {
    h.get_by_label("+10").click();
    assert!(
        settle(h, |a| a.lab().status().step == 10
            && !a.lab().status().running
            && a.lab()
                .history()
                .train_loss
                .points(false)
                .last()
                .is_some_and(|p| p.x == 10.0)),
        "+10 did not train to step 10"
    );
}

/// The texts drawn in the diagram's header band (the top 36 points of its canvas).
fn headers(h: &Harness<'static, NnlabApp>, lang: Lang) -> Vec<(String, Rect)> {
    let name = lang.t(nnlab::ui::i18n::S::Diagram);
    let canvas = h.get_by_label(name).rect();
    drawn_texts(h)
        .into_iter()
        .filter(|(t, r)| {
            !t.is_empty()
                && r.top() >= canvas.top()
                && r.top() < canvas.top() + 36.0
                && r.left() >= canvas.left() - 1.0
                && r.right() <= canvas.right() + 1.0
        })
        .collect()
}

fn tile_rect(app: &NnlabApp, tile: Tile) -> Rect {
    app.views()
        .export
        .rects
        .iter()
        .find(|(t, _)| *t == tile)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("{tile:?} was not drawn"))
}

#[test]
fn deep_network_headers_never_overlap_and_wide_layers_show_their_units() {
    for size in SIZES {
        let mut h = r09(size);
        train_10(&mut h);
        for lang in [Lang::En, Lang::Zh] {
            h.state_mut().send(Command::SetLang(lang));
            h.run_steps(3);
            let canvas = h.get_by_label(lang.t(nnlab::ui::i18n::S::Diagram)).rect();
            let hs = headers(&h, lang);
            // 11 columns (the inputs and 10 layers): a title each, a subtitle per layer.
            assert_eq!(hs.len(), 21, "{size:?} {lang:?}: headers {hs:?}");
            for (i, (ta, a)) in hs.iter().enumerate() {
                for (tb, b) in &hs[i + 1..] {
                    let overlap = a.shrink(0.5).intersect(b.shrink(0.5));
                    assert!(
                        !overlap.is_positive(),
                        "{size:?} {lang:?}: “{ta}” {a:?} overlaps “{tb}” {b:?}"
                    );
                }
            }
            // Each of the nine 32-unit layers shows its first 16 units' maps and says how many
            // of how many (or only how many, where the column is narrow), uncut.
            let texts = drawn_texts(&h);
            let counts: Vec<&Rect> = texts
                .iter()
                .filter(|(t, _)| t == "16/32" || t == "32")
                .map(|(_, r)| r)
                .filter(|r| canvas.contains(r.center()) && r.top() > canvas.top() + 36.0)
                .collect();
            assert_eq!(counts.len(), 9, "{size:?} {lang:?}: the strips' counts");
            let maps = drawn_images(&h)
                .into_iter()
                .filter(|r| canvas.contains_rect(*r))
                .count();
            // 9 strips of 16, the 2 active input features, the output unit.
            assert!(maps >= 9 * 16 + 3, "{size:?} {lang:?}: {maps} maps drawn");
            // A shortened header says itself in full on hover.
            if lang == Lang::En {
                let (_, l3) = hs.iter().find(|(t, _)| t == "L3").expect("“L3”");
                // The pointer rests there (a tooltip waits for it to be still).
                h.hover_at(l3.center());
                h.run_steps(8);
                assert!(
                    h.query_by_label_contains("Layer 3\n32 · sigmoid").is_some(),
                    "{size:?}: no full header on hover"
                );
                h.hover_at(canvas.right_bottom() + egui::vec2(40.0, 40.0));
                h.run_steps(2);
            }
        }
    }
}

#[test]
fn per_layer_plots_show_a_depth_scale_not_ten_legend_rows() {
    for size in SIZES {
        let mut h = r09(size);
        train_10(&mut h);
        for lang in [Lang::En, Lang::Zh] {
            h.state_mut().send(Command::SetLang(lang));
            h.run_steps(3);
            let layer = |i: usize| format!("{} {i}", lang.t(nnlab::ui::i18n::S::Layer));
            let output = lang.t(nnlab::ui::i18n::S::OutputLayer);
            for tile in [
                Tile::Gradient,
                Tile::Update,
                Tile::Saturation,
                Tile::Histogram,
            ] {
                // The per-layer plots share a tab group: enlarge each in turn to see it.
                h.state_mut().send(Command::Enlarge(Some(tile)));
                h.run_steps(3);
                let texts = drawn_texts(&h);
                let rect = tile_rect(h.state(), tile);
                let inside: Vec<&String> = texts
                    .iter()
                    .filter(|(_, r)| rect.contains(r.center()))
                    .map(|(t, _)| t)
                    .collect();
                // The scale's two ends are named; no legend row for a middle layer.
                assert!(
                    inside.iter().any(|t| **t == layer(1)),
                    "{size:?} {lang:?} {tile:?}: no “{}” in {inside:?}",
                    layer(1)
                );
                assert!(
                    inside.iter().any(|t| t.as_str() == output),
                    "{size:?} {lang:?} {tile:?}: no “{output}”"
                );
                for i in 2..=9 {
                    assert!(
                        !inside.iter().any(|t| t.contains(&layer(i))),
                        "{size:?} {lang:?} {tile:?}: a legend row “{}”",
                        layer(i)
                    );
                }
            }
        }
    }
}

#[test]
fn without_a_test_set_nothing_reads_nan() {
    let mut h = r09(SIZES[0]);
    assert_eq!(h.state().lab().test().rows(), 0, "r09 has no test set");
    train_10(&mut h);
    for (lang, phrase) in [
        (Lang::En, "no test set (test fraction 0)"),
        (Lang::Zh, "没有测试集（测试比例为 0）"),
    ] {
        h.state_mut().send(Command::SetLang(lang));
        // Every tile, enlarged in turn, then the whole workspace.
        for tile in Tile::ALL.into_iter().map(Some).chain([None]) {
            h.state_mut().send(Command::Enlarge(tile));
            h.run_steps(3);
            let texts = drawn_texts(&h);
            for (t, _) in &texts {
                assert!(
                    !t.contains("NaN") && !t.contains("nan%"),
                    "{lang:?} {tile:?}: drawn “{t}”"
                );
            }
            if matches!(tile, None | Some(Tile::Output)) {
                assert!(
                    texts.iter().any(|(t, _)| t.contains(phrase)),
                    "{lang:?} {tile:?}: no “{phrase}”"
                );
            }
        }
    }
}

/// Regression: the header reads RMSE and R² (not accuracy), the Accuracy tile plots R², and the
/// numbers drawn are the evaluation's.
#[test]
fn regression_reads_rmse_and_r2() {
    let file = std::path::PathBuf::from("sessions/sawtooth_regression.json");
    let mut h = harness_sized(Some(file), egui::vec2(1600.0, 1000.0));
    assert!(
        settle(&mut h, |a| a.lab().n_params() > 0),
        "the session did not open"
    );
    assert_eq!(h.state().lab().train().classes, 0, "a regression session");
    train_10(&mut h);
    let e = h.state().lab().history().last_eval.unwrap();
    assert!(e.train_r2.is_finite() && e.train_rmse > 0.0, "{e:?}");
    let texts: Vec<String> = drawn_texts(&h).into_iter().map(|(t, _)| t).collect();
    let header = texts
        .iter()
        .find(|t| t.contains("train RMSE"))
        .unwrap_or_else(|| panic!("no RMSE in {texts:?}"));
    assert!(
        header.contains("train R²") && !header.contains("accuracy"),
        "{header}"
    );
    // The last point of the plotted R² series is the evaluation's.
    let h2 = &h.state().lab().history().train_r2;
    assert_eq!(h2.points(false).last().map(|p| p.y), Some(e.train_r2));
    h.state_mut().send(Command::Enlarge(Some(Tile::Accuracy)));
    h.run_steps(3);
    assert!(h.query_by_label_contains("train R²").is_some());
    h.state_mut().send(Command::SetLang(Lang::Zh));
    h.run_steps(3);
    assert!(h.query_by_label_contains("训练 R²").is_some());
    h.state_mut().send(Command::Enlarge(None));
    h.run_steps(3);
    assert!(drawn_texts(&h).iter().any(|(t, _)| t.contains("训练 RMSE")));
}
