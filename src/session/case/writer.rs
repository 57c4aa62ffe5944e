//! The recovery files' writer: a thread of its own, so that an autosave's
//! write and fsync never hold up the UI thread. Each file's newest state
//! wins: an operation queued while an older one for the same file still
//! waits replaces it, and the operations on one file are carried out in the
//! order they were queued (a removal after a save is never undone by an
//! older autosave). Explicit actions (closing a case, a failed save,
//! quitting) wait for the writer ([`Writer::settle`]) to say what happened.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

enum Op {
    Write(Vec<u8>),
    Remove,
}

#[derive(Default)]
struct State {
    /// The newest operation waiting for each file.
    pending: BTreeMap<PathBuf, Op>,
    /// An operation is being carried out.
    busy: bool,
    /// The writer is dropped: finish what is pending, then stop.
    closing: bool,
    /// Held (tests only): queued operations wait.
    held: bool,
    /// Failed operations not yet reported.
    failures: Vec<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, s: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(s).unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer; its thread starts with the first operation.
#[derive(Default)]
pub struct Writer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Queue writing `bytes` to `path` (atomically, its folder made if need be).
    pub fn write(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.queue(path, Op::Write(bytes));
    }

    /// Queue removing `path` (a file already gone is no failure).
    pub fn remove(&mut self, path: PathBuf) {
        self.queue(path, Op::Remove);
    }

    fn queue(&mut self, path: PathBuf, op: Op) {
        if self.thread.is_none() {
            let shared = self.shared.clone();
            self.thread = std::thread::Builder::new()
                .name("facexplain-autosave".into())
                .spawn(move || run(&shared))
                .ok();
        }
        if self.thread.is_none() {
            // No thread could be started: do it here rather than not at all.
            let result = carry_out(&path, &op);
            self.shared.lock().failures.extend(result.err());
            return;
        }
        self.shared.lock().pending.insert(path, op);
        self.shared.changed.notify_all();
    }

    /// Wait until every queued operation is done; the failures since the
    /// last report.
    pub fn settle(&self) -> Vec<String> {
        let mut s = self.shared.lock();
        while self.thread.is_some() && (s.busy || !s.pending.is_empty()) {
            s = self.shared.wait(s);
        }
        std::mem::take(&mut s.failures)
    }

    /// The failures since the last report, without waiting.
    pub fn failures(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().failures)
    }

    /// Hold queued operations back (`true`) or let them go (tests).
    #[cfg(test)]
    fn hold(&self, held: bool) {
        self.shared.lock().held = held;
        self.shared.changed.notify_all();
    }
}

impl Drop for Writer {
    /// Finish what is queued (quitting never loses an autosave), then stop.
    fn drop(&mut self) {
        {
            let mut s = self.shared.lock();
            s.closing = true;
            s.held = false;
        }
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(shared: &Shared) {
    loop {
        let (path, op) = {
            let mut s = shared.lock();
            loop {
                if !s.held
                    && let Some(next) = s.pending.pop_first()
                {
                    s.busy = true;
                    break next;
                }
                if s.closing && s.pending.is_empty() {
                    return;
                }
                s = shared.wait(s);
            }
        };
        let result = carry_out(&path, &op);
        let mut s = shared.lock();
        s.busy = false;
        s.failures.extend(result.err());
        drop(s);
        shared.changed.notify_all();
    }
}

fn carry_out(path: &std::path::Path, op: &Op) -> Result<(), String> {
    let failed = |e: std::io::Error| format!("{}: {e}", path.display());
    match op {
        Op::Write(bytes) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            crate::record::safe_write::write_atomic(path, bytes).map_err(failed)
        }
        Op::Remove => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_leave_the_caller_at_once_and_the_newest_state_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("sub").join("b"));
        let mut w = Writer::default();
        w.hold(true);
        for n in 1..=3 {
            w.write(a.clone(), format!("state {n}").into_bytes());
        }
        w.write(b.clone(), b"b".to_vec());
        // Queued, not written: the caller did not wait for the disk.
        assert!(!a.exists() && !b.exists());
        w.hold(false);
        assert!(w.settle().is_empty());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "state 3");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "b");
        // A removal queued after a write wins over it, and the other way round.
        w.hold(true);
        w.write(a.clone(), b"stale".to_vec());
        w.remove(a.clone());
        w.remove(b.clone());
        w.write(b.clone(), b"newest".to_vec());
        w.hold(false);
        assert!(w.settle().is_empty());
        assert!(!a.exists());
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "newest");
        // Removing what is gone is no failure; a write that cannot be done is.
        w.remove(a.clone());
        assert!(w.settle().is_empty());
        let blocked = a.join("under-a-file");
        std::fs::write(&a, "a file").unwrap();
        w.write(blocked.clone(), b"x".to_vec());
        let failures = w.settle();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("under-a-file"), "{failures:?}");
    }

    #[test]
    fn dropping_the_writer_finishes_what_is_queued() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let mut w = Writer::default();
        w.hold(true);
        w.write(a.clone(), b"kept".to_vec());
        drop(w);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "kept");
    }
}
