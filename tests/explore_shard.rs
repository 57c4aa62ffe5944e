//! Embedding a data set in shards (the real binary, real models, ORL faces).
//!
//! - Through embeddings files, as `docs/explore-shards.md` runs it on a
//!   cluster: `packaging/cluster/facexplain-shards.sh local` runs the shards
//!   as parallel local processes, each given its index the way a Slurm job
//!   array or a Kubernetes Indexed Job gives it, and `… merge` runs
//!   `explore`, `eval` and `calibrate --embeddings`: no model runs, and the
//!   table, the evaluation (summary and plots) and the calibration are a
//!   single run's, byte for byte. The Slurm batch files run as they are,
//!   and a shard given its index as Kubernetes gives it writes the same file.
//! - Files that cannot be used are refused, naming the file and the problem;
//!   images in no file are refused with how many and which shard, or embedded
//!   with `--embed-missing`.
//! - Through one shared cache folder (`explore --embeddings-only --shard`):
//!   the merged table equals a single run's bit for bit.

mod common;

use common::data;
use facexplain::resources::hash::sha256_hex;
use serde_json::Value;
use std::path::{Path, PathBuf};
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

/// `ids` ORL identities (s1, s2, …) of `per` images each, under `root`.
fn orl_set(root: &Path, ids: &[&str], per: usize) {
    for id in ids {
        std::fs::create_dir_all(root.join(id)).unwrap();
        for n in 1..=per {
            let f = format!("{n}.pgm");
            std::fs::copy(data("orl").join(id).join(&f), root.join(id).join(&f)).unwrap();
        }
    }
}

#[test]
fn shards_in_parallel_then_one_merge_equal_a_single_run_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    orl_set(&set, &["s4", "s5", "s6"], 5);
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

/// A file of `packaging/cluster/`.
fn cluster(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/cluster")
        .join(name)
}

/// The models folder the binary uses here (the batch files would otherwise
/// point it at a cluster's shared folder).
fn models_dir() -> String {
    std::env::var("FACEXPLAIN_MODELS")
        .unwrap_or_else(|_| format!("{}/models", env!("CARGO_MANIFEST_DIR")))
}

/// `program` (the shards script, or a batch file run by bash) with the
/// cluster environment: the data set, the shards' folder, N shards.
fn cluster_run(program: &Path, args: &[&str], set: &Path, out: &Path, cache: &Path) -> Command {
    let mut c = Command::new("bash");
    c.arg(program)
        .args(args)
        .env("DATASET", set)
        .env("OUT", out)
        .env("SHARDS", "3")
        .env("FACEXPLAIN", env!("CARGO_BIN_EXE_facexplain"))
        .env("FACEXPLAIN_SHARDS", cluster("facexplain-shards.sh"))
        .env("FACEXPLAIN_MODELS", models_dir())
        .env("XDG_CACHE_HOME", cache)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SHARD_INDEX");
    c
}

/// Run `c`, expect exit code 0; its stdout and stderr.
fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{c:?}\n{out}");
    out
}

/// Every file under `a` is under `b` with the same bytes, and no other.
fn same_files(a: &Path, b: &Path) {
    let list = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(a), list(b), "{} vs {}", a.display(), b.display());
    for f in list(a) {
        let (x, y) = (a.join(&f), b.join(&f));
        assert!(
            std::fs::read(&x).unwrap() == std::fs::read(&y).unwrap(),
            "{} and {} differ",
            x.display(),
            y.display()
        );
    }
}

#[test]
fn shard_files_from_the_cluster_scripts_merge_into_a_single_runs_table_eval_and_calibration() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p);
    let set = t("orl6");
    orl_set(&set, &["s1", "s2", "s3", "s4", "s5", "s6"], 10);
    let d = set.to_str().unwrap();

    // One machine, one run, a cache of its own.
    std::fs::create_dir_all(t("single")).unwrap();
    // `facexplain CMD --dataset DIR ARGS`.
    let single = |args: &[&str]| {
        let all = [&args[..1], &["--dataset", d], &args[1..]].concat();
        ok(&mut run(&all, &t("single-cache")))
    };
    let out = single(&[
        "explore",
        "--json",
        t("single/table.json").to_str().unwrap(),
        "--csv",
        t("single/table.csv").to_str().unwrap(),
    ]);
    assert_eq!(numbers(&out, "embeddings: "), [0, 60], "{out}");
    single(&["eval", "--out-dir", t("single/eval").to_str().unwrap()]);
    single(&[
        "calibrate",
        "--out",
        t("single/calibration.json").to_str().unwrap(),
    ]);

    // Three shards as parallel local processes, each told its index in
    // SLURM_ARRAY_TASK_ID as a Slurm job array tells it.
    let shards = t("shards");
    ok(&mut cluster_run(
        &cluster("facexplain-shards.sh"),
        &["local"],
        &set,
        &shards,
        &t("shard-cache"),
    ));
    let mut images = 0;
    for k in 0..3 {
        let f = shards.join(format!("shard-{k}-of-3.fxemb"));
        let lines = std::fs::read_to_string(&f).unwrap().lines().count();
        assert!(lines > 2, "{}", f.display());
        images += lines - 2;
    }
    assert_eq!(images, 60, "every image in exactly one shard");

    // The merge, as Slurm would run it after the array: no model runs (an
    // empty cache stays empty) and every output is the single run's.
    let merge_cache = t("merge-cache");
    let out = ok(&mut cluster_run(
        &cluster("slurm-merge.sbatch"),
        &[],
        &set,
        &shards,
        &merge_cache,
    ));
    assert_eq!(numbers(&out, "embeddings: "), [0, 0, 60], "{out}");
    assert!(
        out.contains("(60 from embeddings files, 0 embeddings from the cache"),
        "{out}"
    );
    assert!(
        !merge_cache.exists(),
        "the merge wrote to the cache: it ran a model"
    );
    for f in ["table.json", "table.csv", "calibration.json"] {
        let (a, b) = (t("single").join(f), shards.join(f));
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "{f} differs from a single run's"
        );
    }
    same_files(&t("single/eval"), &shards.join("eval"));
    let table: Value =
        serde_json::from_str(&std::fs::read_to_string(shards.join("table.json")).unwrap()).unwrap();
    assert_eq!(table["rows"].as_array().unwrap().len(), 6 * 45 + 15 * 100);

    // Shard 2 by the Slurm batch file as it is, shard 1 told its index as a
    // Kubernetes Indexed Job tells it: the same files, byte for byte.
    let slurm = t("slurm");
    let mut c = cluster_run(
        &cluster("slurm-embed.sbatch"),
        &[],
        &set,
        &slurm,
        &t("slurm-cache"),
    );
    ok(c.env("SLURM_ARRAY_TASK_ID", "2")
        .env_remove("SHARDS")
        .env("SLURM_ARRAY_TASK_COUNT", "3"));
    let k8s = t("k8s");
    let mut c = cluster_run(
        &cluster("facexplain-shards.sh"),
        &["embed"],
        &set,
        &k8s,
        &t("k8s-cache"),
    );
    ok(c.env("JOB_COMPLETION_INDEX", "1"));
    for (dir, k) in [(&slurm, 2), (&k8s, 1)] {
        let f = format!("shard-{k}-of-3.fxemb");
        assert!(
            std::fs::read(dir.join(&f)).unwrap() == std::fs::read(shards.join(&f)).unwrap(),
            "{f} differs"
        );
    }
    // The Kubernetes Job runs the same script with SHARDS = completions.
    let job = std::fs::read_to_string(cluster("k8s-embed-job.yaml")).unwrap();
    assert!(job.contains("completionMode: Indexed"), "{job}");
    assert!(
        job.contains(r#"command: ["facexplain-shards", "embed"]"#),
        "{job}"
    );
    let completions = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions: "))
        .unwrap();
    assert!(
        job.contains(&format!(r#"{{ name: SHARDS, value: "{completions}" }}"#)),
        "{job}"
    );

    // The merge refuses when a shard's file is missing, naming it.
    std::fs::remove_file(shards.join("shard-0-of-3.fxemb")).unwrap();
    let o = cluster_run(
        &cluster("facexplain-shards.sh"),
        &["merge", "explore"],
        &set,
        &shards,
        &merge_cache,
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no file for shards 0/3"), "{}", text(&o));
}

/// The lines of an embeddings file before its end line.
fn lines_of(f: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(f).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines.pop().unwrap().starts_with("{\"end\""));
    lines
}

/// An embeddings file of `lines` with a matching end line.
fn sealed(lines: &[String]) -> String {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let end = format!(
        "{{\"end\":{{\"images\":{},\"sha256\":\"{}\"}}}}\n",
        lines.len() - 1,
        sha256_hex(body.as_bytes())
    );
    body + &end
}

/// `line` (JSON) with `f` applied to it.
fn edit(line: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(line).unwrap();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

#[test]
fn unusable_files_are_refused_naming_them_and_missing_images_counted_or_embedded() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p);
    let set = t("set");
    orl_set(&set, &["s7", "s8", "s9"], 5);
    let d = set.to_str().unwrap();
    let shard = |k: usize| t(&format!("sh{k}.fxemb"));
    for k in 0..3 {
        let (s, f) = (format!("{k}/3"), shard(k));
        ok(&mut run(
            &[
                "embed",
                "--dataset",
                d,
                "--shard",
                &s,
                "--out",
                f.to_str().unwrap(),
            ],
            &t(&format!("cache{k}")),
        ));
    }
    // A file that cannot be written is refused before any work.
    let nowhere = t("no-such-folder/x.fxemb");
    let o = run(
        &["embed", "--dataset", d, "--out", nowhere.to_str().unwrap()],
        &t("cache0"),
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no-such-folder does not exist"),
        "{}",
        text(&o)
    );
    let own = lines_of(&shard(0)).len() - 1;
    let theirs = lines_of(&shard(2)).len() - 1;
    assert!(own > 0 && theirs > 0 && own + theirs < 15);
    // explore --embeddings FILES… with a fresh cache: (exit code, output).
    let explore = |files: &[&Path], extra: &[&str]| {
        let mut args = vec!["explore", "--dataset", d, "--embeddings"];
        args.extend(files.iter().map(|f| f.to_str().unwrap()));
        args.extend(extra);
        let o = run(&args, &t("fresh")).output().unwrap();
        (o.status.code(), text(&o))
    };
    let refused = |files: &[&Path], want: &[&str]| {
        let (code, out) = explore(files, &[]);
        assert_eq!(code, Some(2), "{out}");
        for w in want {
            assert!(out.contains(w), "{w:?} not in {out}");
        }
    };
    let (s0, s1, s2) = (shard(0), shard(1), shard(2));
    let write = |name: &str, body: &str| {
        let p = t(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let text0 = std::fs::read_to_string(&s0).unwrap();
    let lines0 = lines_of(&s0);

    // Truncated (the end line lost), damaged (a face's score changed, the
    // file still well-formed), written by another recogniser (sealed anew).
    let cut = write("cut.fxemb", &text0[..text0.len() / 2]);
    refused(&[&cut, &s1, &s2], &[cut.to_str().unwrap(), "line "]);
    let no_end = write(
        "no-end.fxemb",
        &lines0.iter().map(|l| format!("{l}\n")).collect::<String>(),
    );
    refused(
        &[&no_end, &s1, &s2],
        &[no_end.to_str().unwrap(), "truncated"],
    );
    let mut changed = lines0.clone();
    changed[1] = edit(&changed[1], |v| v["result"]["face"]["score"] = 0.5.into());
    let damaged = write(
        "damaged.fxemb",
        &(changed[..].join("\n") + "\n" + text0.lines().last().unwrap() + "\n"),
    );
    refused(
        &[&damaged, &s1, &s2],
        &[damaged.to_str().unwrap(), "damaged"],
    );
    let mut other = lines0.clone();
    other[0] = edit(&other[0], |v| v["recogniser"]["sha256"] = "0123abcd".into());
    let other = write("other.fxemb", &sealed(&other));
    refused(
        &[&other, &s1, &s2],
        &[
            other.to_str().unwrap(),
            "embedded with recogniser",
            "0123abcd",
        ],
    );

    // The same image in two files: identical is fine, different is refused naming both.
    let (code, out) = explore(&[&s0, &s1, &s2, &s0], &[]);
    assert_eq!(code, Some(0), "{out}");
    let conflict = write("conflict.fxemb", &sealed(&changed));
    let image = serde_json::from_str::<Value>(&changed[1]).unwrap()["path"]
        .as_str()
        .unwrap()
        .to_string();
    refused(
        &[&s0, &s1, &s2, &conflict],
        &[conflict.to_str().unwrap(), s0.to_str().unwrap(), &image],
    );

    // Another quality thresholds file than the embed step's.
    let strict = write(
        "strict.json",
        facexplain::quality::verdict::BUILTIN_THRESHOLDS,
    );
    let (code, out) = explore(
        &[&s0, &s1, &s2],
        &["--quality-thresholds", strict.to_str().unwrap()],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("quality verdicts by") && out.contains("strict.json"),
        "{out}"
    );

    // Shard 2's file left out: its images are counted and named by shard…
    refused(
        &[&s0, &s1],
        &[
            &format!("{theirs} of 15 images are in none of the 2 embeddings files"),
            &format!("by shard: 2/3 ({theirs} images, no file)"),
            "--embed-missing",
        ],
    );
    // … or embedded here with --embed-missing, giving the single run's table.
    let merged = t("merged.json");
    let (code, out) = explore(
        &[&s0, &s1],
        &["--embed-missing", "--json", merged.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        numbers(&out, "embeddings: "),
        [0, theirs, 15 - theirs],
        "{out}"
    );
    assert!(
        out.contains(&format!("{theirs} of 15 images are in none")),
        "{out}"
    );
    let single = t("single.json");
    ok(&mut run(
        &[
            "explore",
            "--dataset",
            d,
            "--json",
            single.to_str().unwrap(),
        ],
        &t("single-cache"),
    ));
    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    assert_eq!(read(&merged)["rows"], read(&single)["rows"]);

    // eval of several models refuses them (they hold one recogniser's results).
    let o = run(
        &[
            "eval",
            "--dataset",
            d,
            "--model",
            "sface,mobilefacenet",
            "--embeddings",
            s0.to_str().unwrap(),
        ],
        &t("fresh"),
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("give one --model"), "{}", text(&o));
}
