//! Safe writes: a file is written whole to a temporary file in the same
//! folder, flushed to disk, then renamed over the target, so a crash or a
//! full disk leaves either the previous file or the new one — never half of
//! one. Case, analysis and report files are all written this way.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically (temporary file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, bytes, || Ok(()))
}

/// [`write_atomic`] with `before_rename` run after the temporary file is
/// written and flushed, just before it replaces `path`: an error there (a
/// simulated crash in tests) aborts the write and leaves `path` untouched.
pub fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        before_rename()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable (best effort: not every file system
    // lets a folder be opened and synced).
    if let Some(dir) = folder_of(path) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The folder holding `path` ("." for a bare file name).
fn folder_of(path: &Path) -> Option<&Path> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        other => other,
    }
}

/// `.<name>.tmp-<pid>-<n>` beside `path` (hidden, unique per process and
/// call); `<name>` is cut to its first 64 characters so that the temporary
/// name stays within the 255-byte file-name limit when the target's name is
/// already near it.
pub fn temp_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map_or_else(
        || "file".into(),
        |n| n.to_string_lossy().chars().take(64).collect::<String>(),
    );
    path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_a_failure_before_rename_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"first").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        let err = write_atomic_with(&p, b"second, longer", || {
            Err(std::io::Error::other("simulated crash"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_atomic(&p, b"third").unwrap();
        // A target whose name is at the 255-byte limit is still written.
        let long = dir.path().join(format!("{}.json", "n".repeat(250)));
        write_atomic(&long, b"long").unwrap();
        assert_eq!(std::fs::read(&long).unwrap(), b"long");
        assert_eq!(std::fs::read(&p).unwrap(), b"third");
    }
}
