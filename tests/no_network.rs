//! No network, proven: every entry point that runs a model — `compare`,
//! `compare --explain xmap,mery`, `calibrate`, `ask` and the app's start-up
//! with its explanation of the sample pair (under Xvfb) — runs under
//! `strace -f -e trace=socket,connect`, and any socket other than a local Unix
//! socket (the display's, D-Bus's) fails the test. ONNX Runtime's telemetry
//! resolves a host name over UDP when it is enabled (issue 20); with
//! `with_telemetry(false)` in `pipeline/runtime.rs` nothing does.
//! Needs strace and Xvfb (installed by `scripts/setup.sh`).

mod common;

use common::data;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_facexplain");

/// The socket-related lines of an strace log that are not local Unix sockets:
/// a `socket()` of another address family, or a `connect()` to a non-Unix
/// address.
fn foreign_sockets(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            let call = |name: &str| l.contains(&format!(" {name}(")) || l.starts_with(name);
            (call("socket") && !l.contains("socket(AF_UNIX"))
                || (call("connect") && !l.contains("sa_family=AF_UNIX"))
        })
        // strace's own notes (e.g. `+++ exited +++`) name no call.
        .filter(|l| l.contains('('))
        .map(str::to_string)
        .collect()
}

/// The strace command line that logs `socket`/`connect` of `program` and all
/// its threads and children into `log`.
fn strace(log: &Path) -> Command {
    let mut c = Command::new("strace");
    c.args([
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-e",
        "trace=socket,connect",
        "-o",
    ])
    .arg(log);
    c
}

/// Run `facexplain args` under strace with a private cache/config in `home`:
/// (exit code, stderr, the foreign socket lines, the whole log).
fn traced(home: &Path, args: &[&str]) -> (i32, String, Vec<String>, String) {
    let log = home.join(format!("strace-{}.log", args[0]));
    let out = strace(&log)
        .arg(BIN)
        .args(args)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("share"))
        .output()
        .expect("run strace (installed by scripts/setup.sh)");
    let text = std::fs::read_to_string(&log).expect("strace log");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        foreign_sockets(&text),
        text,
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The detector itself catches a real UDP socket (to localhost, so nothing
/// leaves the machine): the checks below can fail.
#[test]
fn the_detector_sees_an_inet_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("udp.log");
    let st = strace(&log)
        .args(["bash", "-c", "exec 3<>/dev/udp/127.0.0.1/9; echo probe >&3"])
        .status()
        .unwrap();
    assert!(st.success());
    let found = foreign_sockets(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(found.len(), 2, "{found:?}"); // socket(AF_INET…) and connect(…AF_INET…)
    assert!(foreign_sockets("12 socket(AF_UNIX, SOCK_STREAM, 0) = 3\n").is_empty());
    assert!(
        foreign_sockets(
            "12 connect(3, {sa_family=AF_UNIX, sun_path=\"/tmp/.X11-unix/X9\"}, 20) = 0\n"
        )
        .is_empty()
    );
}

/// `compare`, `compare --explain xmap,mery`, `ask` and `calibrate` open no
/// socket other than a Unix one.
#[test]
fn cli_commands_open_no_network_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let (a, b) = (
        data("face_recognition/obama.jpg"),
        data("face_recognition/obama2.jpg"),
    );
    let json = home.join("analysis.json");
    let (code, err, bad, log) = traced(home, &["compare", s(&a), s(&b), "--json", s(&json)]);
    assert_eq!(code, 0, "{err}");
    assert!(bad.is_empty(), "compare opened network sockets: {bad:#?}");
    assert!(log.lines().count() < 10_000);

    let out_dir = home.join("maps");
    let (code, err, bad, _) = traced(
        home,
        &[
            "compare",
            s(&a),
            s(&b),
            "--explain",
            "xmap,mery",
            "--out-dir",
            s(&out_dir),
            "--json",
            s(&home.join("explained.json")),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out_dir.read_dir().unwrap().count() > 0, "no maps written");
    assert!(
        bad.is_empty(),
        "compare --explain opened network sockets: {bad:#?}"
    );

    let (code, err, bad, _) = traced(
        home,
        &["ask", "--analysis", s(&json), "Which region mattered most?"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(bad.is_empty(), "ask opened network sockets: {bad:#?}");

    // A small dataset: three ORL persons, fresh embedding cache (so the models run).
    let ds = home.join("orl3");
    for person in ["s1", "s2", "s3"] {
        let dst = ds.join(person);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(data("orl").join(person)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    let cal = home.join("cal.json");
    let (code, err, bad, _) = traced(home, &["calibrate", "--dataset", s(&ds), "--out", s(&cal)]);
    assert_eq!(code, 0, "{err}");
    assert!(cal.is_file());
    assert!(bad.is_empty(), "calibrate opened network sockets: {bad:#?}");
}

/// A free X display number: one with neither a socket nor a lock file.
fn free_display() -> u32 {
    (0..400)
        .map(|i| 300 + (std::process::id() + i) % 400)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display")
}

/// Kills a child process when dropped (the test may fail half-way).
struct Reap(std::process::Child);
impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The app opens on the sample pair and explains it in the background: under
/// Xvfb and strace, until the explanation has finished, only Unix sockets.
#[test]
fn app_start_up_with_explanation_opens_no_network_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let n = free_display();
    let _xvfb = Reap(
        Command::new("Xvfb")
            .args([
                &format!(":{n}"),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run Xvfb (installed by scripts/setup.sh)"),
    );
    let sock = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    let t0 = Instant::now();
    while !sock.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "Xvfb :{n} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let runtime = home.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let log = home.join("strace-app.log");
    let mut app = Reap(
        strace(&log)
            .args([BIN, "--frame-stats"])
            .env("DISPLAY", format!(":{n}"))
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("share"))
            .env(
                "WGPU_BACKEND",
                std::env::var("WGPU_BACKEND").unwrap_or_else(|_| "vulkan".into()),
            )
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Read the app's stderr until the explanation has finished (or it fails).
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = app.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Until the explanation has finished, or has run for EXPLAINING (a busy
    // machine may take longer to finish: ONNX Runtime's telemetry fired in
    // the first seconds of its sessions when it was on).
    const EXPLAINING: Duration = Duration::from_secs(240);
    let mut seen = Vec::new();
    let started = Instant::now();
    let mut explaining_since: Option<Instant> = None;
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let done = line.contains("explanation finished");
                if line.contains("while explaining") {
                    explaining_since.get_or_insert_with(Instant::now);
                }
                seen.push(line);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the app exited early:\n{}", seen.join("\n"))
            }
        }
        if explaining_since.is_some_and(|t| t.elapsed() > EXPLAINING) {
            break;
        }
        assert!(
            explaining_since.is_some() || started.elapsed() < Duration::from_secs(600),
            "the app did not start explaining within 600 s:\n{}",
            seen.join("\n")
        );
    }
    drop(app);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("socket(AF_UNIX"),
        "the app never reached the display: strace saw no Unix socket"
    );
    let bad = foreign_sockets(&text);
    assert!(bad.is_empty(), "the app opened network sockets: {bad:#?}");
}
