//! The user's own recognisers in the tests (issue 19): a synthetic ONNX
//! recogniser made with the set-up's `onnx` virtualenv, added with `facexplain
//! models add` into a temporary user models folder, and the binary run with
//! that folder.

use facexplain::pipeline::align::TEMPLATE;
use facexplain::pipeline::recogniser::Recogniser;
use facexplain::resources::ModelStore;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shipped models (the folder the tests are pointed at).
pub fn store() -> ModelStore {
    ModelStore::locate().unwrap()
}

/// A recogniser whose embedding is its input's per-channel mean (`pool`
/// "GlobalAveragePool"; "GlobalMaxPool" gives the maximum): the pool then
/// Flatten, `[N,3,side,side] → [N,3]`, written with the `onnx` package of
/// the set-up's virtualenv.
pub fn synthetic_model(path: &Path, side: u32, pool: &str) {
    let python = dirs::cache_dir()
        .unwrap()
        .join("facexplain/venv-onnx/bin/python");
    let script = r#"
import sys, onnx
from onnx import helper, TensorProto as T
side, pool = int(sys.argv[2]), sys.argv[3]
x = helper.make_tensor_value_info("x", T.FLOAT, ["N", 3, side, side])
y = helper.make_tensor_value_info("emb", T.FLOAT, ["N", 3])
g = helper.make_graph([helper.make_node(pool, ["x"], ["p"]),
                       helper.make_node("Flatten", ["p"], ["emb"])], "means", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="facexplain-test")
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(path)
        .args([&side.to_string(), pool])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} (scripts/fetch-models.sh makes it): {e}",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn facexplain(user_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .args(args)
        .env("FACEXPLAIN_USER_MODELS", user_dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `facexplain compare A B --models LIST` with the user models in `user`.
pub fn compare(user: &Path, a: &Path, b: &Path, list: &str) -> (i32, String, String) {
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    facexplain(user, &["compare", a, b, "--models", list])
}

/// The synthetic recogniser added as `means` (BGR, less (10, 20, 30);
/// `side` pixels a side, the five-point template scaled to it unless
/// `more` options say otherwise) to the user models folder
/// `tmp/user-models`, which is returned.
pub fn add_means(tmp: &Path, side: u32, more: &[&str]) -> PathBuf {
    let user = tmp.join("user-models");
    let file = tmp.join("means.onnx");
    synthetic_model(&file, side, "GlobalAveragePool");
    let side = side.to_string();
    let (code, out, err) = facexplain(
        &user,
        &[
            "models",
            "add",
            file.to_str().unwrap(),
            "--name",
            "means",
            "--colour",
            "BGR",
            "--mean",
            "10,20,30",
            "--std",
            "1",
            "--size",
            &side,
        ]
        .iter()
        .chain(more)
        .copied()
        .collect::<Vec<_>>(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3-D embedding"), "{out}");
    user
}

/// Recogniser `id` of the user models folder `user`.
pub fn user_recogniser(user: &Path, id: &str) -> Recogniser {
    (Recogniser::all_with(&store(), Some(user))
        .unwrap()
        .into_iter())
    .find(|r| r.id() == id)
    .unwrap_or_else(|| panic!("{id} in {}", user.display()))
}

/// A looser 96-pixel alignment template than SFace's: its template scaled
/// to 96 pixels, then by 0.8 about the centre; and as `--template` gives it.
pub fn looser_template_96() -> ([[f32; 2]; 5], String) {
    let k = 96.0 / 112.0;
    let t = TEMPLATE.map(|p| p.map(|v| 48.0 + (v * k - 48.0) * 0.8));
    let text: Vec<String> = t.iter().flatten().map(|v| format!("{v:.3}")).collect();
    (t, text.join(","))
}
