//! Colours and the two themes.

use eframe::egui::{self, Color32};

/// Orange (TensorFlow Playground's colours): negative values and class 0.
pub const NEG: Color32 = Color32::from_rgb(245, 147, 34);
/// Blue: positive values and class 1.
pub const POS: Color32 = Color32::from_rgb(8, 119, 189);

/// Colours for k classes (class 0 and 1 match NEG and POS).
const CLASS: [Color32; 8] = [
    NEG,
    POS,
    Color32::from_rgb(60, 170, 90),
    Color32::from_rgb(200, 60, 90),
    Color32::from_rgb(140, 90, 200),
    Color32::from_rgb(120, 120, 120),
    Color32::from_rgb(200, 180, 40),
    Color32::from_rgb(40, 180, 180),
];

/// The colour of class `c` (the palette repeats after 8 classes).
pub fn class_color(c: usize) -> Color32 {
    CLASS[c % CLASS.len()]
}

/// Line colours of per-layer series.
pub fn series_color(i: usize) -> Color32 {
    const C: [Color32; 8] = [
        Color32::from_rgb(31, 119, 180),
        Color32::from_rgb(255, 127, 14),
        Color32::from_rgb(44, 160, 44),
        Color32::from_rgb(214, 39, 40),
        Color32::from_rgb(148, 103, 189),
        Color32::from_rgb(140, 86, 75),
        Color32::from_rgb(227, 119, 194),
        Color32::from_rgb(23, 190, 207),
    ];
    C[i % C.len()]
}

/// Line colour of layer `i` of `n` on a depth scale (first layer blue, through purple and red,
/// to the output in orange): many layers read as one ordered family instead of ten unrelated
/// colours, and every stop is mid-tone so it reads on either theme.
pub fn depth_color(i: usize, n: usize) -> Color32 {
    const STOPS: [Color32; 4] = [
        Color32::from_rgb(31, 119, 180),
        Color32::from_rgb(148, 103, 189),
        Color32::from_rgb(214, 39, 40),
        Color32::from_rgb(255, 127, 14),
    ];
    if n <= 1 {
        return STOPS[0];
    }
    let t = (i.min(n - 1) as f32 / (n - 1) as f32) * (STOPS.len() - 1) as f32;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    lerp(STOPS[k], STOPS[k + 1], t - k as f32)
}

fn lerp(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    Color32::from_rgb(m(a.r(), b.r()), m(a.g(), b.g()), m(a.b(), b.b()))
}

/// A value in [−1, 1] → orange … background … blue.
pub fn diverging(v: f32, dark: bool) -> Color32 {
    let mid = if dark {
        Color32::from_rgb(40, 40, 44)
    } else {
        Color32::from_rgb(245, 245, 245)
    };
    if !v.is_finite() {
        return Color32::from_rgb(128, 128, 128);
    }
    if v < 0.0 {
        lerp(mid, NEG, -v)
    } else {
        lerp(mid, POS, v)
    }
}

/// How far the decision regions go towards the class colour: the points drawn on top are in
/// the full class colour, so the regions stay lighter (as in Playground) or the points vanish.
const REGION: f32 = 0.6;

/// The decision map's colour for a score in [−1, 1].
pub fn region(v: f32, dark: bool) -> Color32 {
    diverging(v * REGION, dark)
}

/// A class colour faded towards the background by (1 − confidence).
pub(crate) fn faded_class(c: usize, confidence: f32, dark: bool) -> Color32 {
    let mid = if dark {
        Color32::from_rgb(40, 40, 44)
    } else {
        Color32::from_rgb(245, 245, 245)
    };
    lerp(mid, class_color(c), (0.25 + 0.75 * confidence) * REGION)
}

/// The ring around a data point: it separates the point from a region of its own colour.
pub(crate) fn point_halo(dark: bool) -> Color32 {
    if dark {
        Color32::from_gray(15)
    } else {
        Color32::WHITE
    }
}

/// A quiet line colour (e.g. the noisy batch loss) that still reads on either background.
pub fn quiet_line(dark: bool) -> Color32 {
    if dark {
        Color32::from_gray(115)
    } else {
        Color32::from_gray(165)
    }
}

/// Switch egui to the dark or the light theme.
pub fn apply(ctx: &egui::Context, dark: bool) {
    ctx.set_theme(if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    });
}
