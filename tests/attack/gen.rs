//! Generators of hostile inputs for the attack tests (proptest strategies
//! whose values shrink), the targets they are fed to, and the checks every
//! target must pass: no panic, no hang (a time limit), and an error that names
//! the file. Shared by the quick run (`cargo test`) and the long fuzz run
//! (`scripts/fuzz.sh`).
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_facexplain");

pub fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One edit of a byte string; positions are fractions of its length, so one
/// edit means the same on any base. `header`: within the first 256 bytes,
/// where formats keep sizes and counts.
#[derive(Clone, Debug)]
pub enum ByteEdit {
    Set {
        header: bool,
        at: Index,
        to: u8,
    },
    Flip {
        header: bool,
        at: Index,
        bit: u8,
    },
    /// A big-endian 32-bit value written over four bytes (sizes, lengths).
    Word {
        header: bool,
        at: Index,
        to: u32,
    },
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    Delete {
        at: Index,
        len: u16,
    },
    Truncate {
        at: Index,
    },
    /// A span copied `times` times in place (repeated chunks, markers).
    Repeat {
        at: Index,
        len: u8,
        times: u8,
    },
}

fn pos(len: usize, header: bool, at: &Index) -> usize {
    let span = if header { len.min(256) } else { len };
    if span == 0 { 0 } else { at.index(span) }
}

impl ByteEdit {
    pub fn apply(&self, b: &mut Vec<u8>) {
        let n = b.len();
        match self {
            ByteEdit::Set { header, at, to } if n > 0 => {
                let i = pos(n, *header, at);
                b[i] = *to;
            }
            ByteEdit::Flip { header, at, bit } if n > 0 => {
                let i = pos(n, *header, at);
                b[i] ^= 1 << (bit % 8);
            }
            ByteEdit::Word { header, at, to } if n >= 4 => {
                let i = pos(n - 3, *header, at);
                b[i..i + 4].copy_from_slice(&to.to_be_bytes());
            }
            ByteEdit::Insert { at, bytes } => {
                let i = pos(n + 1, false, at);
                b.splice(i..i, bytes.iter().copied());
            }
            ByteEdit::Delete { at, len } if n > 0 => {
                let i = pos(n, false, at);
                let j = (i + *len as usize).min(n);
                b.drain(i..j);
            }
            ByteEdit::Truncate { at } => {
                let i = pos(n + 1, false, at);
                b.truncate(i);
            }
            ByteEdit::Repeat { at, len, times } if n > 0 => {
                let i = pos(n, false, at);
                let j = (i + *len as usize + 1).min(n);
                let chunk = b[i..j].to_vec();
                for _ in 0..*times {
                    b.splice(j..j, chunk.iter().copied());
                }
            }
            _ => {}
        }
    }
}

/// Values that break readers: extremes, wrong signs, NaN-like text.
fn hostile_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(0x7FFF_FFFF),
        Just(0xFFFF_FFFF),
        Just(0x8000_0000),
        Just(16_385),
        Just(65_535),
        any::<u32>(),
    ]
}

pub fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<bool>(), any::<Index>(), any::<u8>()).prop_map(|(header, at, to)| ByteEdit::Set {
            header,
            at,
            to
        }),
        (any::<bool>(), any::<Index>(), any::<u8>()).prop_map(|(header, at, bit)| ByteEdit::Flip {
            header,
            at,
            bit
        }),
        (any::<bool>(), any::<Index>(), hostile_u32())
            .prop_map(|(header, at, to)| ByteEdit::Word { header, at, to }),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| ByteEdit::Insert { at, bytes }),
        (any::<Index>(), any::<u16>()).prop_map(|(at, len)| ByteEdit::Delete { at, len }),
        any::<Index>().prop_map(|at| ByteEdit::Truncate { at }),
        (any::<Index>(), any::<u8>(), 1..8u8).prop_map(|(at, len, times)| ByteEdit::Repeat {
            at,
            len,
            times
        }),
    ]
}

/// A value put in place of one node of a JSON document.
#[derive(Clone, Debug)]
pub enum Hostile {
    Num(f64),
    Int(i64),
    /// An integer literal too big for any Rust integer.
    HugeInt,
    Null,
    Bool(bool),
    Str(String),
    LongStr(u32),
    EmptyArray,
    EmptyObject,
    /// An array of `n` copies of a number (huge tables, long maps).
    LongArray(u32, f64),
    /// Arrays nested `n` deep.
    Deep(u16),
    /// The node removed from its parent.
    Remove,
    /// Its first array element or field duplicated.
    Duplicate,
}

fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(-1.0),
        Just(1e30),
        Just(-1e30),
        Just(1e308),
        Just(f64::MIN_POSITIVE),
        Just(4.294967296e9),
        Just(16_385.0),
        Just(0.5),
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ]
}

pub fn hostile() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        3 => hostile_f64().prop_map(Hostile::Num),
        2 => prop_oneof![Just(-1i64), Just(0), Just(i64::MAX), Just(i64::MIN), Just(1 << 32), any::<i64>()]
            .prop_map(Hostile::Int),
        1 => Just(Hostile::HugeInt),
        1 => Just(Hostile::Null),
        1 => any::<bool>().prop_map(Hostile::Bool),
        1 => prop_oneof![
            Just(String::new()),
            Just("../../../../etc/passwd".to_string()),
            Just("/dev/zero".to_string()),
            Just("/dev/urandom".to_string()),
            Just("/proc/self/mem".to_string()),
            Just("<script>alert(1)</script>".to_string()),
            Just("NaN".to_string()),
            Just("\u{202e}gpj.exe".to_string()),
            "\\PC{0,40}",
        ]
        .prop_map(Hostile::Str),
        1 => (1u32..2_000_000).prop_map(Hostile::LongStr),
        1 => Just(Hostile::EmptyArray),
        1 => Just(Hostile::EmptyObject),
        1 => (0u32..200_000, hostile_f64()).prop_map(|(n, v)| Hostile::LongArray(n, v)),
        1 => (1u16..3000).prop_map(Hostile::Deep),
        2 => Just(Hostile::Remove),
        1 => Just(Hostile::Duplicate),
    ]
}

/// One structural edit of a JSON document: node number `at` (depth first,
/// root excluded; among the numbers only when `numeric`: boxes, sizes,
/// counts) replaced by `with`.
#[derive(Clone, Debug)]
pub struct JsonEdit {
    pub numeric: bool,
    pub at: Index,
    pub with: Hostile,
}

pub fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        (any::<Index>(), hostile()).prop_map(|(at, with)| JsonEdit {
            numeric: false,
            at,
            with
        }),
        (any::<Index>(), hostile_f64()).prop_map(|(at, x)| JsonEdit {
            numeric: true,
            at,
            with: Hostile::Num(x)
        }),
    ]
}

fn counts(v: &Value, numeric: bool) -> bool {
    !numeric || v.is_number()
}

fn count_nodes(v: &Value, numeric: bool) -> usize {
    let here = |c: &Value| usize::from(counts(c, numeric)) + count_nodes(c, numeric);
    match v {
        Value::Array(a) => a.iter().map(here).sum(),
        Value::Object(o) => o.values().map(here).sum(),
        _ => 0,
    }
}

fn hostile_value(h: &Hostile, old: &Value) -> Option<Value> {
    Some(match h {
        Hostile::Num(x) => serde_json::json!(x),
        Hostile::Int(i) => serde_json::json!(i),
        Hostile::HugeInt => {
            serde_json::from_str("123456789012345678901234567890").unwrap_or(Value::Null)
        }
        Hostile::Null => Value::Null,
        Hostile::Bool(b) => Value::Bool(*b),
        Hostile::Str(s) => Value::String(s.clone()),
        Hostile::LongStr(n) => Value::String("A".repeat(*n as usize)),
        Hostile::EmptyArray => Value::Array(vec![]),
        Hostile::EmptyObject => Value::Object(Default::default()),
        Hostile::LongArray(n, x) => Value::Array(vec![serde_json::json!(x); *n as usize]),
        Hostile::Deep(n) => {
            let mut v = serde_json::json!(1);
            for _ in 0..*n {
                v = Value::Array(vec![v]);
            }
            v
        }
        Hostile::Duplicate => match old {
            Value::Array(a) if !a.is_empty() => {
                let mut a = a.clone();
                a.push(a[0].clone());
                Value::Array(a)
            }
            Value::Object(o) if !o.is_empty() => {
                let mut o = o.clone();
                let (k, v) = o.iter().next().map(|(k, v)| (k.clone(), v.clone()))?;
                o.insert(format!("{k}_again"), v);
                Value::Object(o)
            }
            other => Value::Array(vec![other.clone(), other.clone()]),
        },
        Hostile::Remove => return None,
    })
}

/// Apply `e` to node number `k` (counted depth first, among the numbers
/// when `numeric`) under `v`.
fn edit_node(v: &mut Value, k: &mut usize, e: &Hostile, numeric: bool) -> bool {
    let children: Vec<(usize, Option<String>)> = match v {
        Value::Array(a) => (0..a.len()).map(|i| (i, None)).collect(),
        Value::Object(o) => o
            .keys()
            .cloned()
            .enumerate()
            .map(|(i, s)| (i, Some(s)))
            .collect(),
        _ => return false,
    };
    for (i, key) in children {
        let child = match (&mut *v, &key) {
            (Value::Array(a), None) => &mut a[i],
            (Value::Object(o), Some(name)) => o.get_mut(name).expect("key"),
            _ => unreachable!(),
        };
        if !counts(child, numeric) {
            if edit_node(child, k, e, numeric) {
                return true;
            }
            continue;
        }
        if *k == 0 {
            match hostile_value(e, child) {
                Some(new) => *child = new,
                None => match (v, key) {
                    (Value::Array(a), None) => {
                        a.remove(i);
                    }
                    (Value::Object(o), Some(name)) => {
                        o.remove(&name);
                    }
                    _ => unreachable!(),
                },
            }
            return true;
        }
        *k -= 1;
        if edit_node(child, k, e, numeric) {
            return true;
        }
    }
    false
}

/// A JSON document after structural edits, then byte edits of its text.
#[derive(Clone, Debug)]
pub struct JsonAttack {
    pub edits: Vec<JsonEdit>,
    pub bytes: Vec<ByteEdit>,
}

pub fn json_attack() -> impl Strategy<Value = JsonAttack> {
    (
        prop::collection::vec(json_edit(), 1..4),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec(byte_edit(), 1..3),
        ],
    )
        .prop_map(|(edits, bytes)| JsonAttack { edits, bytes })
}

impl JsonAttack {
    pub fn apply(&self, base: &Value) -> Vec<u8> {
        let mut v = base.clone();
        for e in &self.edits {
            let n = count_nodes(&v, e.numeric);
            if n > 0 {
                let mut k = e.at.index(n);
                edit_node(&mut v, &mut k, &e.with, e.numeric);
            }
        }
        // serde_json refuses to write nesting it would refuse to read back;
        // the deep document is then written by hand.
        let mut out = serde_json::to_vec_pretty(&v).unwrap_or_else(|_| deep_text(&v));
        for b in &self.bytes {
            b.apply(&mut out);
        }
        out
    }
}

fn deep_text(v: &Value) -> Vec<u8> {
    let mut s = String::new();
    write_value(v, &mut s);
    s.into_bytes()
}

fn write_value(v: &Value, s: &mut String) {
    match v {
        Value::Array(a) => {
            s.push('[');
            for (i, c) in a.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_value(c, s);
            }
            s.push(']');
        }
        Value::Object(o) => {
            s.push('{');
            for (i, (k, c)) in o.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&Value::String(k.clone()).to_string());
                s.push(':');
                write_value(c, s);
            }
            s.push('}');
        }
        other => s.push_str(&other.to_string()),
    }
}

/// A pairs list: lines of tokens (names, numbers, junk), then byte edits.
#[derive(Clone, Debug)]
pub struct PairsAttack {
    pub lines: Vec<Vec<String>>,
    pub bytes: Vec<ByteEdit>,
}

fn pairs_token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (1u32..45).prop_map(|i| format!("s{i}")),
        3 => (0u32..14).prop_map(|i| i.to_string()),
        1 => prop_oneof![
            Just("4294967295".to_string()),
            Just("4294967296".to_string()),
            Just("-1".to_string()),
            Just("18446744073709551616".to_string()),
            Just("#".to_string()),
            Just("..".to_string()),
            Just("../s1".to_string()),
            "\\PC{1,12}",
        ],
    ]
}

pub fn pairs_attack() -> impl Strategy<Value = PairsAttack> {
    (
        prop::collection::vec(prop::collection::vec(pairs_token(), 0..6), 0..30),
        prop::collection::vec(byte_edit(), 0..3),
    )
        .prop_map(|(lines, bytes)| PairsAttack { lines, bytes })
}

impl PairsAttack {
    pub fn render(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self
            .lines
            .iter()
            .map(|l| l.join(" "))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes();
        for b in &self.bytes {
            b.apply(&mut out);
        }
        out
    }
}

/// An image file: one of the real bases (by index), then byte edits.
#[derive(Clone, Debug)]
pub struct ImageAttack {
    pub base: Index,
    pub edits: Vec<ByteEdit>,
}

pub fn image_attack() -> impl Strategy<Value = ImageAttack> {
    (any::<Index>(), prop::collection::vec(byte_edit(), 1..6))
        .prop_map(|(base, edits)| ImageAttack { base, edits })
}

/// Real image files of every format the loader reads: JPEG and PNG from
/// `data/`, PGM from ORL, and WebP, TIFF, BMP encoded here from a real face
/// (no such files come with the fetched packages).
pub fn image_bases() -> Vec<(&'static str, Vec<u8>)> {
    let read = |rel: &str| std::fs::read(root(rel)).expect("data/ (run scripts/setup.sh)");
    let face = image::open(root("data/face_recognition/obama.jpg"))
        .expect("data image")
        .resize(160, 160, image::imageops::FilterType::Triangle);
    let encode = |f: image::ImageFormat| {
        let mut c = std::io::Cursor::new(Vec::new());
        face.write_to(&mut c, f).expect("encode");
        c.into_inner()
    };
    let grey = image::DynamicImage::ImageLuma16(face.to_luma16());
    let mut tiff16 = std::io::Cursor::new(Vec::new());
    grey.write_to(&mut tiff16, image::ImageFormat::Tiff)
        .expect("tiff16");
    vec![
        ("jpg", read("data/face_recognition/obama2.jpg")),
        ("png", read("data/face_recognition/32bit.png")),
        ("pgm", read("data/orl/s1/1.pgm")),
        ("webp", encode(image::ImageFormat::WebP)),
        ("tiff", encode(image::ImageFormat::Tiff)),
        ("tiff", tiff16.into_inner()),
        ("bmp", encode(image::ImageFormat::Bmp)),
        ("png", encode(image::ImageFormat::Png)),
    ]
}

/// What a subprocess did within its time limit.
#[derive(Debug)]
pub struct Outcome {
    /// `None`: killed by a signal, or killed at the time limit.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stderr: String,
    pub secs: f64,
}

/// Run `facexplain args` with `limit`; killed when it overruns.
pub fn run_limited(args: &[&str], env: &[(&str, &Path)], limit: Duration) -> Outcome {
    let t0 = Instant::now();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run facexplain");
    let mut pipe = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if t0.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.code(),
        timed_out,
        stderr: reader.join().unwrap_or_default(),
        secs: t0.elapsed().as_secs_f64(),
    }
}

/// The rule for a CLI call on a hostile file: done within the limit, exit 0
/// (the file was still valid) or 2 with a message naming the file; never a
/// panic, a signal or an internal error.
pub fn check_outcome(o: &Outcome, file: &Path) -> Result<(), String> {
    let name = file.file_name().unwrap().to_string_lossy();
    if o.timed_out {
        return Err(format!("hang: killed after {:.0} s", o.secs));
    }
    if o.stderr.contains("panicked") {
        return Err(format!("panic: {}", o.stderr));
    }
    match o.code {
        Some(0) => Ok(()),
        Some(2) if o.stderr.contains(name.as_ref()) => Ok(()),
        Some(2) => Err(format!("exit 2 without naming {name}: {}", o.stderr)),
        other => Err(format!("exit {other:?}: {}", o.stderr)),
    }
}

/// Run `f` on another thread: its result, or an error when it panics or
/// takes longer than `limit` (a hang; the thread is left behind).
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = h.join();
            Ok(v)
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("hang: no result after {limit:?}"))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(format!("panic: {:?}", h.join().err().map(panic_text)))
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// An in-process reader's result: Ok, or an error whose text names the file.
pub fn names_file<T, E: std::fmt::Display>(r: Result<T, E>, file: &Path) -> Result<(), String> {
    let name = file.file_name().unwrap().to_string_lossy();
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains(name.as_ref()) => Ok(()),
        Err(e) => Err(format!("error without the file name {name}: {e}")),
    }
}
