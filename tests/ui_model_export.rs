//! Session → Export model… in the app (egui_kittest, headless): the network as shown goes to
//! an ONNX file or a PyTorch folder off the UI thread, with one line of outcome.

mod common_ui;

use std::path::PathBuf;

use common_ui::{harness, settle, type_into};
use egui_kittest::kittest::Queryable;
use nnlab::export::Format;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "nnlab-ui-model-export-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn export_model_writes_the_network_as_shown() {
    let dir = temp_dir("both");
    let mut h = harness(None);
    let target = h.state().lab().status().step + 20;
    h.state_mut().send(nnlab::ui::command::Command::Step(20));
    assert!(settle(&mut h, |a| a
        .lab()
        .snapshot()
        .as_ref()
        .is_some_and(|s| s.step == target)));

    // Through the Session menu.
    h.get_by_label("Session").click();
    h.run_steps(2);
    h.get_by_label("Export model…").click();
    h.run_steps(3);
    assert!(h.state().views().model_export.open);
    assert_eq!(h.state().views().model_export.format, Format::Onnx);

    let onnx = dir.join("net.onnx");
    type_into(&mut h, "Path", &onnx.display().to_string());
    h.get_by_label("Export").click();
    assert!(
        settle(&mut h, |a| a.views().model_export.outcome.is_some()),
        "no outcome"
    );
    let line = h
        .state()
        .views()
        .model_export
        .outcome
        .clone()
        .unwrap()
        .unwrap();
    assert_eq!(line, format!("Model exported: {}", onnx.display()));
    assert!(h.state().lab().notice().is_some_and(|(n, _)| *n == line));
    assert!(onnx.is_file());

    // PyTorch: a folder; its first weights are the snapshot's θ bit for bit.
    h.get_by_label("PyTorch (folder: model.py + model.safetensors)")
        .click();
    h.run_steps(1);
    assert_eq!(h.state().views().model_export.format, Format::Pytorch);
    let folder = dir.join("pt");
    type_into(&mut h, "Path", &folder.display().to_string());
    h.get_by_label("Export").click();
    assert!(settle(&mut h, |a| !a.views().model_export.running
        && a.views()
            .model_export
            .outcome
            .as_ref()
            .is_some_and(|o| o.is_ok())
        && folder.join("model.py").exists()));
    let line = h
        .state()
        .views()
        .model_export
        .outcome
        .clone()
        .unwrap()
        .unwrap();
    assert_eq!(
        line,
        format!(
            "Model exported: {}, {}",
            folder.join("model.py").display(),
            folder.join("model.safetensors").display()
        )
    );
    assert!(
        h.state()
            .lab()
            .notice()
            .is_some_and(|(n, _)| *n == format!("Model exported: {}", folder.display()))
    );
    let bytes = std::fs::read(folder.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = st.tensor("layers.0.linear.weight").unwrap();
    let theta = &h.state().lab().snapshot().unwrap().theta;
    let got = f64s(w.data());
    assert_eq!(got, theta[..got.len()]);
    assert!(folder.join("model.py").is_file());
}

#[test]
fn a_failed_export_says_why_in_one_line() {
    let dir = temp_dir("fail");
    let mut h = harness(None);
    h.state_mut()
        .send(nnlab::ui::command::Command::ShowModelExport);
    h.run_steps(3);
    type_into(
        &mut h,
        "Path",
        &dir.join("missing/net.onnx").display().to_string(),
    );
    h.get_by_label("Export").click();
    assert!(settle(&mut h, |a| a.views().model_export.outcome.is_some()));
    let line = h
        .state()
        .views()
        .model_export
        .outcome
        .clone()
        .unwrap()
        .unwrap_err();
    assert!(
        line.starts_with("Model export failed: ") && line.contains("does not exist"),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1);
    assert_eq!(h.state().lab().error(), Some(line.as_str()));
    // Exporting where it can: the failure's banner goes.
    let onnx = dir.join("net.onnx");
    type_into(&mut h, "Path", &onnx.display().to_string());
    h.get_by_label("Export").click();
    assert!(settle(&mut h, |a| a
        .views()
        .model_export
        .outcome
        .as_ref()
        .is_some_and(|o| o.is_ok())));
    assert!(onnx.is_file());
    assert_eq!(h.state().lab().error(), None);
}
