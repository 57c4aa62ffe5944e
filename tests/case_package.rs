//! The installable package (issue 15): `scripts/package-deb.sh` builds the
//! .deb around the test binary; `dpkg-deb -c` lists the binary, every model
//! of the manifest, ONNX Runtime, the assets, the sample pair, the .desktop
//! entry, the icon and the licences; `dpkg -x` unpacks it into a temporary
//! root, from which `compare`, `case new` and `case verify` run with an
//! empty environment, an empty HOME and an empty working folder.

mod common;
use common::data;
use std::path::{Path, PathBuf};
use std::process::Command;

fn models_dir() -> PathBuf {
    std::env::var_os("FACEXPLAIN_MODELS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("models"),
        PathBuf::from,
    )
}

/// Run a command: (exit code, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run the command");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_deb_holds_everything_and_runs_from_an_unpacked_root_with_an_empty_home() {
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package-deb.sh");
    let sample_dir = data("face_recognition");
    let data_dir = sample_dir.parent().unwrap();
    let (code, out, err) = run(Command::new("bash")
        .arg(&script)
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_facexplain"))
        .arg("--models")
        .arg(models_dir())
        .arg("--data")
        .arg(data_dir)
        .arg("--out")
        .arg(tmp.path())
        .args(["--compress", "none"]));
    assert_eq!(code, 0, "package-deb.sh failed:\n{out}\n{err}");
    let deb = PathBuf::from(out.trim());
    assert!(deb.is_file(), "{} was not built", deb.display());

    // The files are in place.
    let (code, listing, err) = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    assert_eq!(code, 0, "{err}");
    let files: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("manifest.json")).unwrap())
            .unwrap();
    let mut expected: Vec<String> = [
        "usr/bin/facexplain",
        "usr/bin/facexplain-shards",
        "usr/share/doc/facexplain/cluster/slurm-embed.sbatch",
        "usr/share/doc/facexplain/cluster/k8s-embed-job.yaml",
        "usr/share/facexplain/models/manifest.json",
        "usr/share/facexplain/assets/calibration/sface-orl.json",
        "usr/share/facexplain/assets/report/report.css",
        "usr/share/facexplain/data/face_recognition/obama.jpg",
        "usr/share/facexplain/data/face_recognition/obama2.jpg",
        "usr/share/applications/facexplain.desktop",
        "usr/share/icons/hicolor/scalable/apps/facexplain.svg",
        "usr/share/doc/facexplain/copyright",
        "usr/share/doc/facexplain/licences/Apache-2.0.txt",
        "usr/share/doc/facexplain/licences/ONNX-Runtime-MIT.txt",
        "usr/share/doc/facexplain/licences/facexplain-MIT.txt",
    ]
    .map(String::from)
    .into();
    for m in manifest["models"].as_array().unwrap() {
        expected.push(format!(
            "usr/share/facexplain/models/{}",
            m["file"].as_str().unwrap()
        ));
    }
    for e in &expected {
        assert!(
            files.contains(&format!("./{e}").as_str()),
            "{e} is not in the package:\n{listing}"
        );
    }
    let (code, control, _) = run(Command::new("dpkg-deb").args(["-f"]).arg(&deb));
    assert_eq!(code, 0);
    assert!(control.contains("Package: facexplain"), "{control}");
    assert!(control.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))));

    // Unpacked into a temporary root, it runs with nothing but what it holds.
    let root = tmp.path().join("root");
    let (code, _, err) = run(Command::new("dpkg").arg("-x").arg(&deb).arg(&root));
    assert_eq!(code, 0, "{err}");
    let copyright =
        std::fs::read_to_string(root.join("usr/share/doc/facexplain/copyright")).unwrap();
    for m in manifest["models"].as_array().unwrap() {
        assert!(
            copyright.contains(m["sha256"].as_str().unwrap()),
            "licence of {m}"
        );
    }
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let exe = root.join("usr/bin/facexplain");
    let sample = root.join("usr/share/facexplain/data/face_recognition");
    let bare = |args: &[&str]| {
        run(Command::new(&exe)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .current_dir(&work))
    };
    let (a, b) = (sample.join("obama.jpg"), sample.join("obama2.jpg"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code, out, err) = bare(&["compare", a, b]);
    assert_eq!(code, 0, "compare from the package failed:\n{out}\n{err}");
    assert!(out.contains("decision: match"), "{out}");
    let (code, out, err) = bare(&["case", "new", "c.fxcase", "--a", a, "--b", b]);
    assert_eq!(code, 0, "case new from the package failed:\n{out}\n{err}");
    let (code, out, err) = bare(&["case", "verify", "c.fxcase"]);
    assert_eq!(
        code, 0,
        "case verify from the package failed:\n{out}\n{err}"
    );
    assert!(out.contains("reproduced"), "{out}");
    // The command line keeps nothing in the home folder.
    let left: Vec<_> = std::fs::read_dir(&home).unwrap().flatten().collect();
    assert!(left.is_empty(), "files written into HOME: {left:?}");
}
