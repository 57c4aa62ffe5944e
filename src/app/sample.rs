//! The built-in sample pair the app opens on (fetched by `scripts/setup.sh`
//! into `data/`): two photographs of the same person from the
//! face_recognition package's test images.

use std::path::{Path, PathBuf};

/// Relative paths of the sample pair inside the data folder.
pub const SAMPLE_PAIR: [&str; 2] = ["face_recognition/obama.jpg", "face_recognition/obama2.jpg"];

/// Data folders in search order: `$FACEXPLAIN_DATA`, `./data`, beside the
/// executable, the source checkout this binary was built from.
pub fn data_dirs() -> Vec<PathBuf> {
    let mut d = Vec::new();
    if let Some(p) = std::env::var_os("FACEXPLAIN_DATA") {
        d.push(PathBuf::from(p));
    }
    d.push(PathBuf::from("data"));
    if let Ok(exe) = std::env::current_exe()
        && let Some(parent) = exe.parent()
    {
        d.push(parent.join("data"));
    }
    d.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("data"));
    d
}

/// The sample pair's files, if the set-up has fetched them.
pub fn sample_pair() -> Option<[PathBuf; 2]> {
    data_dirs().into_iter().find_map(|d| {
        let [a, b] = SAMPLE_PAIR.map(|p| d.join(p));
        (a.is_file() && b.is_file()).then_some([a, b])
    })
}
