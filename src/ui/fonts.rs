//! The CJK font (a subset of Noto Sans CJK SC, SIL Open Font License; see assets/) added as a
//! fallback so 中文 renders on any machine.

use eframe::egui::{self, FontData, FontFamily};
use eframe::egui::{FontInsert, FontPriority, InsertFontFamily};

/// The font file, compiled into the binary.
const CJK_FONT: &[u8] = include_bytes!("../../assets/NotoSansSC-subset.otf");

/// Add the CJK font to both families as the lowest-priority fallback (egui's own fonts draw Latin
/// text; 中文 falls through to this one).
pub fn install(ctx: &egui::Context) {
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        ctx.add_font(FontInsert::new(
            &format!("noto-sans-sc-{family:?}"),
            FontData::from_static(CJK_FONT),
            vec![InsertFontFamily {
                family,
                priority: FontPriority::Lowest,
            }],
        ));
    }
}
