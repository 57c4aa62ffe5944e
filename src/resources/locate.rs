//! Where the program's files are found: one search-path list for models,
//! data (the sample pair) and assets, and the candidates for the ONNX
//! Runtime library. Nothing here depends on where the binary was built.
//!
//! Search order for a kind of file (`models`, `data`, `assets`):
//! 1. its environment variable (`$FACEXPLAIN_MODELS`, `$FACEXPLAIN_DATA`,
//!    `$FACEXPLAIN_ASSETS`), the folder itself;
//! 2. `./<kind>` in the current folder (a source checkout: `scripts/run.sh`
//!    and the tests run from there);
//! 3. `<exe dir>/<kind>` (an unpacked archive);
//! 4. `<exe dir>/../share/facexplain/<kind>` (an installed package:
//!    `/usr/bin/facexplain` → `/usr/share/facexplain/models`);
//! 5. `$XDG_DATA_HOME/facexplain/<kind>`, then
//!    `~/.local/share/facexplain/<kind>` (the per-user data folders).

use std::path::{Path, PathBuf};

/// The application's folder name under the data folders.
pub const APP_DIR: &str = "facexplain";

/// Relative paths of the sample pair the app opens on, inside the data folder
/// (two photographs of the same person from the face_recognition package's
/// test images, fetched by `scripts/setup.sh`).
pub const SAMPLE_PAIR: [&str; 2] = ["face_recognition/obama.jpg", "face_recognition/obama2.jpg"];

/// A kind of file the program looks for, each in its own folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Model files and `manifest.json` (and the ONNX Runtime library under `onnxruntime/`).
    Models,
    /// Images: the sample pair, test and calibration sets.
    Data,
    /// Files a person edits: calibrations, intents, verbal scales, thresholds.
    Assets,
}

impl Kind {
    /// The folder's name under each search root.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Models => "models",
            Kind::Data => "data",
            Kind::Assets => "assets",
        }
    }

    /// The environment variable naming the folder outright.
    pub fn env_var(self) -> &'static str {
        match self {
            Kind::Models => "FACEXPLAIN_MODELS",
            Kind::Data => "FACEXPLAIN_DATA",
            Kind::Assets => "FACEXPLAIN_ASSETS",
        }
    }
}

/// What the search depends on: read from the process by [`Places::of_process`],
/// or written out by a test.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Places {
    /// `(kind, folder)` for each kind whose environment variable is set.
    pub overrides: Vec<(Kind, PathBuf)>,
    /// The folder holding the running executable.
    pub exe_dir: Option<PathBuf>,
    /// `$XDG_DATA_HOME` when set to an absolute path.
    pub xdg_data_home: Option<PathBuf>,
    /// The user's home folder.
    pub home: Option<PathBuf>,
}

impl Places {
    /// The places of this process: its environment and executable.
    pub fn of_process() -> Places {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Places {
            overrides: [Kind::Models, Kind::Data, Kind::Assets]
                .into_iter()
                .filter_map(|k| var(k.env_var()).map(|v| (k, PathBuf::from(v))))
                .collect(),
            exe_dir: std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(Path::to_path_buf)),
            xdg_data_home: var("XDG_DATA_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute()),
            home: dirs::home_dir(),
        }
    }

    /// The roots each kind's folder is looked for under, in search order
    /// (the empty path is the current folder).
    pub fn roots(&self) -> Vec<PathBuf> {
        let mut roots = vec![PathBuf::new()];
        if let Some(exe) = &self.exe_dir {
            roots.push(exe.clone());
            roots.push(exe.join("..").join("share").join(APP_DIR));
        }
        if let Some(d) = &self.xdg_data_home {
            roots.push(d.join(APP_DIR));
        }
        if let Some(h) = &self.home {
            roots.push(h.join(".local").join("share").join(APP_DIR));
        }
        let mut seen = Vec::new();
        roots.retain(|r| {
            let new = !seen.contains(r);
            seen.push(r.clone());
            new
        });
        roots
    }

    /// Candidate folders for `kind`, in search order.
    pub fn dirs(&self, kind: Kind) -> Vec<PathBuf> {
        let named = self
            .overrides
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, p)| p.clone());
        named
            .chain(self.roots().into_iter().map(|r| r.join(kind.folder())))
            .collect()
    }

    /// The first candidate folder for `kind` holding every file of `probe`
    /// (relative paths), or the first candidate so errors name a sensible path.
    pub fn find_dir(&self, kind: Kind, probe: &[&str]) -> PathBuf {
        let dirs = self.dirs(kind);
        dirs.iter()
            .find(|d| probe.iter().all(|p| d.join(p).is_file()))
            .unwrap_or(&dirs[0])
            .clone()
    }
}

/// Candidate folders for `kind` in this process, in search order.
pub fn search_dirs(kind: Kind) -> Vec<PathBuf> {
    Places::of_process().dirs(kind)
}

/// The first folder for `kind` holding every file of `probe` (see [`Places::find_dir`]).
pub fn find_dir(kind: Kind, probe: &[&str]) -> PathBuf {
    Places::of_process().find_dir(kind, probe)
}

/// The file `rel` in the first folder for `kind` that has it.
pub fn find_file(kind: Kind, rel: &str) -> Option<PathBuf> {
    search_dirs(kind)
        .into_iter()
        .map(|d| d.join(rel))
        .find(|p| p.is_file())
}

/// The sample pair's files, if the set-up has fetched them.
pub fn sample_pair() -> Option<[PathBuf; 2]> {
    let dir = find_dir(Kind::Data, &SAMPLE_PAIR);
    let [a, b] = SAMPLE_PAIR.map(|p| dir.join(p));
    (a.is_file() && b.is_file()).then_some([a, b])
}

/// Candidate paths of the ONNX Runtime shared library `file`, in search
/// order: `$ORT_DYLIB_PATH`, beside the executable, then `onnxruntime/` in
/// each models folder (where `scripts/setup.sh` unpacks it).
pub fn ort_library(file: &str) -> Vec<PathBuf> {
    let places = Places::of_process();
    let mut c = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        c.push(PathBuf::from(p));
    }
    if let Some(dir) = &places.exe_dir {
        c.push(dir.join(file));
    }
    c.extend(
        places
            .dirs(Kind::Models)
            .into_iter()
            .map(|d| d.join("onnxruntime").join(file)),
    );
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places {
            overrides: vec![(Kind::Data, PathBuf::from("/srv/images"))],
            exe_dir: Some(PathBuf::from("/opt/fx/bin")),
            xdg_data_home: Some(PathBuf::from("/home/u/xdg")),
            home: Some(PathBuf::from("/home/u")),
        }
    }

    #[test]
    fn search_order_is_env_cwd_exe_share_xdg_home() {
        let p = places();
        let want = |k: &str| {
            vec![
                PathBuf::from(k),
                PathBuf::from(format!("/opt/fx/bin/{k}")),
                PathBuf::from(format!("/opt/fx/bin/../share/facexplain/{k}")),
                PathBuf::from(format!("/home/u/xdg/facexplain/{k}")),
                PathBuf::from(format!("/home/u/.local/share/facexplain/{k}")),
            ]
        };
        assert_eq!(p.dirs(Kind::Models), want("models"));
        assert_eq!(p.dirs(Kind::Assets), want("assets"));
        let mut data = vec![PathBuf::from("/srv/images")];
        data.extend(want("data"));
        assert_eq!(p.dirs(Kind::Data), data);
        // XDG_DATA_HOME at its default is searched once.
        let p = Places {
            xdg_data_home: Some(PathBuf::from("/home/u/.local/share")),
            ..places()
        };
        assert_eq!(p.dirs(Kind::Models).len(), 4);
    }

    #[test]
    fn find_dir_takes_the_first_folder_with_every_probe_file() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = tmp.path().join("x/bin");
        let share = tmp.path().join("x/share/facexplain/models");
        let home = tmp.path().join("home");
        let user = home.join(".local/share/facexplain/models");
        for d in [&exe, &share, &user] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(user.join("a.onnx"), b"a").unwrap();
        std::fs::write(user.join("b.onnx"), b"b").unwrap();
        std::fs::write(share.join("a.onnx"), b"a").unwrap();
        let p = Places {
            overrides: Vec::new(),
            exe_dir: Some(exe.clone()),
            xdg_data_home: None,
            home: Some(home),
        };
        // `share` lacks b.onnx, so the user folder wins for both files.
        assert_eq!(p.find_dir(Kind::Models, &["a.onnx", "b.onnx"]), user);
        assert_eq!(
            p.find_dir(Kind::Models, &["a.onnx"]),
            exe.join("../share/facexplain/models")
        );
        // Nothing anywhere: the first candidate, so an error names `models`.
        assert_eq!(
            p.find_dir(Kind::Models, &["missing.onnx"]),
            PathBuf::from("models")
        );
    }
}
