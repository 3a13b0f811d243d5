//! The network section of the left panel: features, layers (units, activation, BatchNorm,
//! dropout), initialiser, residual connections, weight constraint, parameter count.

use eframe::egui;

use crate::net::Activation;
use crate::net::spec::{Init, LayerSpec, NetworkSpec, WeightConstraint};
use crate::ui::command::Command;
use crate::ui::i18n::S;
use crate::ui::model::feature_choices;
use crate::ui::view::{View, ViewCtx};

/// Most hidden layers the Network panel's + button adds (a session file may have more).
pub const MAX_HIDDEN: usize = 8;
/// Most units per layer the + / − unit buttons give (a session file may have more).
pub const MAX_UNITS_UI: usize = 1024;

/// Every initialiser with its name (the Compare panel's variants use it too).
pub(crate) const INITS: [(Init, &str); 10] = [
    (Init::Zeros, "zeros"),
    (Init::Constant, "constant"),
    (Init::Uniform, "uniform"),
    (Init::Normal, "normal"),
    (Init::XavierUniform, "xavier_uniform"),
    (Init::XavierNormal, "xavier_normal"),
    (Init::HeUniform, "he_uniform"),
    (Init::HeNormal, "he_normal"),
    (Init::Orthogonal, "orthogonal"),
    (Init::Siren, "siren"),
];

/// The initialiser's name as the session file spells it.
pub fn init_name(i: Init) -> &'static str {
    INITS.iter().find(|(x, _)| *x == i).map_or("?", |(_, n)| n)
}

/// Pretty feature names (x1^2 → x₁²).
pub fn feature_label(f: &str) -> String {
    f.replace("x1*x2", "x₁x₂")
        .replace("x1", "x₁")
        .replace("x2", "x₂")
        .replace("^2", "²")
        .replace("(", " ")
        .replace(")", "")
}

/// Toggle a feature on or off (never the last one). Returns whether the network changed.
pub fn toggle_feature(net: &mut NetworkSpec, f: &str) -> bool {
    let order = feature_choices(net.inputs);
    let raw = net.feature_names();
    let list = net.features.get_or_insert(raw);
    if let Some(i) = list.iter().position(|x| x == f) {
        if list.len() > 1 {
            list.remove(i);
        } else {
            return false;
        }
    } else {
        // Keep the designer's order.
        list.push(f.to_string());
        list.sort_by_key(|x| order.iter().position(|o| o == x).unwrap_or(99));
    }
    true
}

/// A hidden layer more, like the last hidden one. Returns whether the network changed.
pub fn add_layer(net: &mut NetworkSpec) -> bool {
    let layers = &mut net.layers;
    let hidden = layers.len() - 1;
    if hidden >= MAX_HIDDEN {
        return false;
    }
    let template = layers
        .get(hidden.saturating_sub(1))
        .filter(|_| hidden > 0)
        .cloned()
        .unwrap_or_else(|| LayerSpec::new(4, Activation::Tanh));
    layers.insert(hidden, template);
    true
}

/// The last hidden layer removed. Returns whether the network changed.
pub fn remove_layer(net: &mut NetworkSpec) -> bool {
    let layers = &mut net.layers;
    if layers.len() <= 1 {
        return false;
    }
    layers.remove(layers.len() - 2);
    true
}

/// Units of a layer changed by `delta` (within 1..=MAX_UNITS_UI). Returns whether they did.
pub fn change_units(net: &mut NetworkSpec, layer: usize, delta: i64) -> bool {
    let l = &mut net.layers[layer];
    let n = (l.units as i64 + delta).clamp(1, MAX_UNITS_UI as i64) as usize;
    let changed = n != l.units;
    l.units = n;
    changed
}

fn activation_combo(
    ui: &mut egui::Ui,
    id: (&str, usize),
    name: &str,
    act: &mut Activation,
    output: bool,
) -> bool {
    let mut changed = false;
    egui::ComboBox::from_id_salt(id)
        .selected_text(act.name())
        .width(104.0)
        .show_ui(ui, |ui| {
            for a in Activation::ALL {
                if a == Activation::Softmax && !output {
                    continue;
                }
                if a == Activation::Step && !output {
                    continue;
                }
                changed |= ui.selectable_value(act, a, a.name()).changed();
            }
        })
        .response
        .accessible_name(name);
    changed
}

/// The network section holds no state of its own: its widgets edit a copy of the session's
/// network, which goes back as `Command::EditSession` followed by `Rebuild`.
pub struct NetworkView;

impl View for NetworkView {
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
        egui::CollapsingHeader::new(egui::RichText::new(ctx.t(S::Network)).heading())
            .id_salt("network_section")
            .default_open(true)
            .show(ui, |ui| body(ui, ctx));
    }
}

fn body(ui: &mut egui::Ui, ctx: &ViewCtx<'_>) {
    let lang = ctx.lang();
    let perceptron = ctx.lab.is_perceptron();
    let mut edited = ctx.lab.session().clone();
    let mut rebuild = false;
    // Features.
    let choices = feature_choices(edited.network.inputs);
    if !choices.is_empty() {
        ui.label(lang.t(S::Features));
        let active = edited.network.feature_names();
        let mut toggled = None;
        ui.horizontal_wrapped(|ui| {
            for f in &choices {
                let on = active.iter().any(|a| a == f);
                if ui.selectable_label(on, feature_label(f)).clicked() {
                    toggled = Some(f.to_string());
                }
            }
        });
        if let Some(f) = toggled {
            rebuild |= toggle_feature(&mut edited.network, &f);
        }
    }
    // Layers.
    ui.horizontal(|ui| {
        ui.label(lang.t(S::Layers));
        let hidden = edited.network.layers.len() - 1;
        ui.label(egui::RichText::new(format!("{hidden}")).strong());
        if ui
            .add_enabled(
                !perceptron && hidden < MAX_HIDDEN,
                egui::Button::new(lang.t(S::AddLayer)),
            )
            .clicked()
        {
            rebuild |= add_layer(&mut edited.network);
        }
        if ui
            .add_enabled(hidden > 0, egui::Button::new(lang.t(S::RemoveLayer)))
            .clicked()
        {
            rebuild |= remove_layer(&mut edited.network);
        }
    });
    let n = edited.network.layers.len();
    let mut units_delta = None;
    egui::Grid::new("layers_grid")
        .num_columns(6)
        .spacing([6.0, 3.0])
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            ui.label(lang.t(S::Units));
            ui.label(lang.t(S::Activation));
            ui.label(lang.t(S::BatchNorm));
            ui.label(lang.t(S::Dropout));
            ui.label(lang.t(S::FrozenShort))
                .on_hover_text(lang.t(S::FrozenHint));
            ui.end_row();
            for i in 0..n {
                let output = i + 1 == n;
                let name = if output {
                    lang.t(S::OutputLayer).to_string()
                } else {
                    format!("{} {}", lang.t(S::Layer), i + 1)
                };
                ui.label(&name);
                let l = &mut edited.network.layers[i];
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 2.0;
                    if output {
                        ui.label(format!("{}", l.units));
                    } else {
                        if ui.small_button("−").clicked() {
                            units_delta = Some((i, -1));
                        }
                        ui.label(format!("{}", l.units));
                        if ui.small_button("+").clicked() {
                            units_delta = Some((i, 1));
                        }
                    }
                });
                let act_name = format!("{name} {}", lang.t(S::Activation));
                rebuild |= activation_combo(ui, ("act", i), &act_name, &mut l.activation, output);
                rebuild |= ui
                    .checkbox(&mut l.batch_norm, "")
                    .accessible_name(format!("{name} {}", lang.t(S::BatchNorm)))
                    .changed();
                if output {
                    ui.label("—");
                } else {
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut l.dropout)
                                .range(0.0..=0.9)
                                .clamp_existing_to_range(false)
                                .speed(0.01)
                                .max_decimals(2),
                        )
                        .accessible_name(format!("{name} {}", lang.t(S::Dropout)));
                    rebuild |= r.drag_stopped() || (r.changed() && !r.dragged());
                }
                // Frozen: training leaves the layer as initialised.
                let mut frozen = !l.trainable;
                if ui
                    .checkbox(&mut frozen, "")
                    .on_hover_text(lang.t(S::FrozenHint))
                    .accessible_name(format!("{name} {}", lang.t(S::FrozenLayer)))
                    .changed()
                {
                    l.trainable = !frozen;
                    rebuild = true;
                }
                ui.end_row();
            }
        });
    if let Some((i, d)) = units_delta {
        rebuild |= change_units(&mut edited.network, i, d);
    }
    let net = &mut edited.network;
    egui::Grid::new("net_opts")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label(lang.t(S::Init));
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt("init")
                    .selected_text(init_name(net.init))
                    .width(120.0)
                    .show_ui(ui, |ui| {
                        for (i, name) in INITS {
                            let was = net.init;
                            if ui.selectable_value(&mut net.init, i, name).changed() {
                                rebuild = true;
                                // Orthogonal's scale is a gain: 1 keeps every singular value
                                // of a layer at 1 (the default 0.1 would shrink the signal).
                                if i == Init::Orthogonal && was != Init::Orthogonal {
                                    net.init_scale = 1.0;
                                }
                            }
                        }
                    })
                    .response
                    .accessible_name(lang.t(S::Init));
                if matches!(
                    net.init,
                    Init::Constant | Init::Uniform | Init::Normal | Init::Orthogonal
                ) {
                    ui.label(lang.t(S::InitScale));
                    let r = ui
                        .add(
                            egui::DragValue::new(&mut net.init_scale)
                                .range(0.0..=10.0)
                                .clamp_existing_to_range(false)
                                .speed(0.01),
                        )
                        .accessible_name(lang.t(S::InitScale));
                    rebuild |= r.drag_stopped() || (r.changed() && !r.dragged());
                }
            });
            ui.end_row();
            ui.label(lang.t(S::Constraint));
            egui::ComboBox::from_id_salt("constraint")
                .selected_text(match net.weight_constraint {
                    WeightConstraint::None => lang.t(S::ConstraintNone),
                    WeightConstraint::Nonnegative => lang.t(S::ConstraintNonneg),
                })
                .width(120.0)
                .show_ui(ui, |ui| {
                    rebuild |= ui
                        .selectable_value(
                            &mut net.weight_constraint,
                            WeightConstraint::None,
                            lang.t(S::ConstraintNone),
                        )
                        .changed();
                    rebuild |= ui
                        .selectable_value(
                            &mut net.weight_constraint,
                            WeightConstraint::Nonnegative,
                            lang.t(S::ConstraintNonneg),
                        )
                        .changed();
                })
                .response
                .accessible_name(lang.t(S::Constraint));
            ui.end_row();
        });
    rebuild |= ui
        .checkbox(&mut net.residual, lang.t(S::Residual))
        .changed();
    ui.label(
        egui::RichText::new(format!("{}: {}", lang.t(S::Params), ctx.lab.n_params())).strong(),
    )
    .on_hover_text("Σ n_l (n_(l-1) + 1) (+ BatchNorm γ, β and PReLU α)");
    if edited != *ctx.lab.session() {
        ctx.send(Command::EditSession(Box::new(edited)));
    }
    if rebuild {
        ctx.send(Command::Rebuild);
    }
}
