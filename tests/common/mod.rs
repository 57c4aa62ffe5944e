//! Helpers shared by the integration tests: where the fetched test images
//! live, and running the built `facexplain` binary.
#![allow(dead_code)] // each test crate uses its own subset

pub mod app;
pub mod onnx;
pub mod user_models;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file of the fetched test data (`data/`, set up by `scripts/setup.sh`).
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// Held while a test writes an executable file or starts a process. A process
/// forked while an executable is open for writing keeps it open until it
/// execs, and starting that executable then fails with "Text file busy".
pub fn fork_guard() -> std::sync::MutexGuard<'static, ()> {
    static FORK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    FORK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run the binary: (exit code, stdout, stderr).
pub fn facexplain(args: &[&str]) -> (i32, String, String) {
    let child = {
        let _only_us = fork_guard();
        Command::new(env!("CARGO_BIN_EXE_facexplain"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run facexplain")
    };
    let out = child.wait_with_output().expect("run facexplain");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
