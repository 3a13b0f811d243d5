//! The Curvature tile's edge of stability for the session's optimiser: the threshold labelled
//! with its formula ((2+2μ)/η, …), the preconditioned sharpness λ_max(P⁻¹H) where the rule
//! has one, and why there is no line where the rule has no threshold. Drawn from explicit
//! arguments (the report shown, the language).

use eframe::egui;

use super::curvature::num;
use crate::analysis::curvature::Report;
use crate::analysis::stability::Quantity;
use crate::ui::i18n::{Lang, S};

/// The legend name of the threshold line: "(2+2μ)/η (edge of stability)"; plain GD's when the
/// optimiser is not known.
pub(crate) fn line_name(report: Option<&Report>, lang: Lang) -> String {
    let formula = match report.and_then(|a| a.stability.as_ref()) {
        Some(Ok(r)) if r.edge.threshold.is_some() => r.edge.formula,
        _ => "2/η",
    };
    format!("{formula} ({})", lang.t(S::EdgeOfStability))
}

/// The readout line's labels for the shown report: "threshold formula = value" (hover: the
/// rules), the preconditioned sharpness, or why there is no threshold.
pub(crate) fn readout_ui(ui: &mut egui::Ui, a: &Report, lang: Lang) {
    match &a.stability {
        None => {
            if a.lr > 0.0 {
                ui.label(format!("2/η = {}", num(2.0 / a.lr)))
                    .on_hover_text(lang.t(S::EdgeNote));
            }
        }
        Some(Err(e)) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("{}: {e}", lang.t(S::EdgeFailed)),
            );
        }
        Some(Ok(r)) => {
            let Some(t) = r.edge.threshold else {
                ui.weak(lang.t(S::EdgeNone));
                return;
            };
            if r.edge.quantity == Quantity::Preconditioned {
                let v = r
                    .value
                    .map_or_else(|| lang.t(S::EdgePending).to_string(), num);
                ui.label(
                    egui::RichText::new(format!("{} = {v}", r.edge.quantity.formula())).strong(),
                );
            }
            let mut hover = lang.t(S::EdgeRuleNote).to_string();
            if r.edge.clipped {
                hover = format!("{hover}\n{}", lang.t(S::EdgeClipped));
            }
            ui.label(format!("{} = {}", r.edge.formula, num(t)))
                .on_hover_text(hover);
        }
    }
}

/// The hover line of the compact readout: "formula = value".
pub(crate) fn compact_text(a: &Report) -> String {
    match &a.stability {
        Some(Ok(r)) => match (r.edge.threshold, r.value) {
            (Some(t), Some(v)) if r.edge.quantity == Quantity::Preconditioned => format!(
                "{} = {} · {} = {}",
                r.edge.quantity.formula(),
                num(v),
                r.edge.formula,
                num(t)
            ),
            (Some(t), _) => format!("{} = {}", r.edge.formula, num(t)),
            (None, _) => String::new(),
        },
        _ if a.lr > 0.0 => format!("2/η = {}", num(2.0 / a.lr)),
        _ => String::new(),
    }
}
