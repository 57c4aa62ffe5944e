//! An installed binary finds its files without the source checkout: a copy
//! of the built binary in `<prefix>/bin` with the models in
//! `<prefix>/share/facexplain/models` compares two faces from any folder,
//! and the same copy without them fails naming the missing model file.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

/// `compare` of the sample pair writing the analysis to `json`.
fn compare_sample_pair(json: &str) -> Vec<String> {
    let [a, b] = ["obama.jpg", "obama2.jpg"].map(|f| {
        common::data(&format!("face_recognition/{f}"))
            .display()
            .to_string()
    });
    vec!["compare".into(), a, b, "--json".into(), json.into()]
}

/// Lay out `<prefix>/bin/facexplain` (a copy of the built binary, so that
/// its own location is `prefix`) and, if `with_models`, the models under
/// `<prefix>/share/facexplain/models`; run `compare` from `prefix` with no
/// search variable set and an empty home, writing `<prefix>/analysis.json`.
/// Returns (exit code, the analysis JSON or "", stderr).
fn run_installed(prefix: &Path, with_models: bool) -> (i32, String, String) {
    let bin = prefix.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("facexplain");
    if with_models {
        let share = prefix.join("share/facexplain");
        std::fs::create_dir_all(&share).unwrap();
        let models = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .canonicalize()
            .unwrap();
        std::os::unix::fs::symlink(models, share.join("models")).unwrap();
    }
    let home = prefix.join("home");
    std::fs::create_dir_all(&home).unwrap();
    // The copy and every start of a process under one lock (see `fork_guard`).
    let child = {
        let _only_us = common::fork_guard();
        if !exe.exists() {
            std::fs::copy(env!("CARGO_BIN_EXE_facexplain"), &exe).unwrap();
        }
        Command::new(&exe)
            .args(compare_sample_pair("analysis.json"))
            .current_dir(prefix)
            .env_remove("FACEXPLAIN_MODELS")
            .env_remove("FACEXPLAIN_DATA")
            .env_remove("FACEXPLAIN_ASSETS")
            .env_remove("ORT_DYLIB_PATH")
            .env_remove("XDG_DATA_HOME")
            .env("HOME", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        std::fs::read_to_string(prefix.join("analysis.json")).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_installed_binary_finds_its_models_in_share() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run_installed(tmp.path(), true);
    assert_eq!(code, 0, "{err}");
    let installed: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The same numbers as the binary run in the source checkout.
    let json = tmp.path().join("in-tree.json");
    let args = compare_sample_pair(json.to_str().unwrap());
    let (code, _, err) = common::facexplain(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let in_tree: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(installed["similarity"].is_number(), "{installed}");
    assert_eq!(installed["similarity"], in_tree["similarity"]);
    assert_eq!(installed["decision"], in_tree["decision"]);
}

#[test]
fn without_installed_models_the_error_names_the_missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run_installed(tmp.path(), false);
    assert_ne!(code, 0);
    // The first model loaded is the detector; the path is the first candidate.
    assert!(
        err.contains("model file models/yunet.onnx is missing") && err.contains("scripts/setup.sh"),
        "{err}"
    );
}
