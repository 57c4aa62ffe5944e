//! Embedding a data set in shards (the real binary, real models, ORL faces):
//! three shards run as parallel local processes into one cache folder, each
//! embeds only its share, together every image once; the final `explore`
//! over that cache runs no model and writes the same table, bit for bit, as
//! a single run with a cache of its own. `docs/explore-shards.md` runs the
//! same commands as a Slurm job array and a Kubernetes Indexed Job.

mod common;

use common::data;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str], cache: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_facexplain"));
    c.args(args).env("XDG_CACHE_HOME", cache);
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The numbers on the line starting with `prefix`.
fn numbers(out: &str, prefix: &str) -> Vec<usize> {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {out}"))
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[test]
fn shards_in_parallel_then_one_merge_equal_a_single_run_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    for id in ["s4", "s5", "s6"] {
        std::fs::create_dir_all(set.join(id)).unwrap();
        for n in 1..=5 {
            let f = format!("{n}.pgm");
            std::fs::copy(data("orl").join(id).join(&f), set.join(id).join(&f)).unwrap();
        }
    }
    let d = set.to_str().unwrap();
    let shared = tmp.path().join("shared-cache");
    let children: Vec<_> = (0..3)
        .map(|k| {
            let shard = format!("{k}/3");
            run(
                &[
                    "explore",
                    "--dataset",
                    d,
                    "--embeddings-only",
                    "--shard",
                    &shard,
                ],
                &shared,
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut mine = 0;
    for (k, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        // "shard K/3: M of 15 images; embeddings: 0 from the cache, M computed, 0 skipped"
        let n = numbers(&out, &format!("shard {k}/3:"));
        assert_eq!(
            (n[0], n[1], n[3], n[4], n[5], n[6]),
            (k, 3, 15, 0, n[2], 0),
            "{out}"
        );
        mine += n[2];
    }
    assert_eq!(mine, 15, "the shards split the images, each once");

    let (merged, single) = (
        tmp.path().join("merged.json"),
        tmp.path().join("single.json"),
    );
    let o = run(
        &[
            "explore",
            "--dataset",
            d,
            "--json",
            merged.to_str().unwrap(),
        ],
        &shared,
    )
    .output()
    .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(numbers(&out, "embeddings: "), [15, 0], "{out}");
    let o = run(
        &[
            "explore",
            "--dataset",
            d,
            "--json",
            single.to_str().unwrap(),
        ],
        &tmp.path().join("own-cache"),
    )
    .output()
    .unwrap();
    assert_eq!(numbers(&text(&o), "embeddings: "), [0, 15]);
    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let (m, s) = (read(&merged), read(&single));
    assert_eq!(m["rows"].as_array().unwrap().len(), 3 * 10 + 75);
    assert_eq!(m["rows"], s["rows"]);
    assert_eq!(m["summary"], s["summary"]);

    // A shard outside 0..N is refused with the expected form.
    let o = run(
        &[
            "explore",
            "--dataset",
            d,
            "--embeddings-only",
            "--shard",
            "3/3",
        ],
        &shared,
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("expected K/N"), "{}", text(&o));
}
