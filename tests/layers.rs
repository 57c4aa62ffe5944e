//! The layer rule of ARCHITECTURE.md, checked: every `crate::…` path in
//! `src/` is read (comments, strings and character literals left out), and a
//! folder that names a layer it may not import fails the test with the file
//! and line. Two finer rules of the calibration layer are checked too: its
//! run-time part never touches the pipeline, and its fitting part
//! (`calibration::fit`) serves only itself, the CLI and the explorer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a top-level module may import.
enum Imports {
    /// Nothing of the crate: a bottom layer.
    Nothing,
    /// Only these.
    Only(&'static [&'static str]),
    /// Every module listed before it.
    AllBelow,
    /// Every module listed before it but these.
    AllBelowBut(&'static [&'static str]),
}

/// The top-level modules of `src/`, lowest layer first, and what each may
/// import. Keep in step with ARCHITECTURE.md.
const LAYERS: &[(&str, Imports)] = &[
    ("record", Imports::Nothing),
    ("progress", Imports::Nothing),
    ("resources", Imports::Nothing),
    ("pipeline", Imports::AllBelow),
    ("quality", Imports::AllBelow),
    ("calibration", Imports::AllBelow),
    ("explain", Imports::AllBelow),
    ("explore", Imports::AllBelow),
    ("chat", Imports::Only(&["record", "progress", "resources"])),
    ("session", Imports::AllBelow),
    ("report", Imports::AllBelow),
    ("app", Imports::AllBelow),
    ("cli", Imports::AllBelowBut(&["app"])),
];

/// The modules `module` may import, or `None` if it is not in [`LAYERS`].
fn allowed(module: &str) -> Option<Vec<&'static str>> {
    let at = LAYERS.iter().position(|(m, _)| *m == module)?;
    let below = LAYERS[..at].iter().map(|(m, _)| *m);
    Some(match &LAYERS[at].1 {
        Imports::Nothing => Vec::new(),
        Imports::Only(list) => list.to_vec(),
        Imports::AllBelow => below.collect(),
        Imports::AllBelowBut(but) => below.filter(|m| !but.contains(m)).collect(),
    })
}

/// `src/calibration` files (relative to it) that may run the pipeline:
/// the analysis of a pair and everything under `fit/`.
fn calibration_may_use_pipeline(rel: &str) -> bool {
    rel == "assess.rs" || rel.starts_with("fit/")
}

/// The source with comments, string and character literals blanked out
/// (newlines kept, so line numbers still hold).
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            // Raw string r"…" or r#"…"#: ends at a quote followed by as many #.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            c[i..j.min(c.len())]
                .iter()
                .for_each(|&ch| out.push(blank(ch)));
            i = j;
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = if next == Some('\\') {
                (i + 2..c.len()).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    (i..=e).for_each(|_| out.push(' '));
                    i = e + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Every crate-relative path the code names, as (line, path) with the path
/// written out from `crate::` (groups `crate::{a, b::c}` are expanded one level).
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + "crate::".len()..];
            rest = after;
            if before.is_some_and(|b| b.is_alphanumeric() || b == '_') {
                continue; // `foocrate::` is not the crate root
            }
            if let Some(group) = after.strip_prefix('{') {
                let body = &group[..group.find('}').unwrap_or(group.len())];
                for item in body.split(',') {
                    let item = item.trim();
                    if !item.is_empty() {
                        out.push((n + 1, item.to_string()));
                    }
                }
            } else {
                let path: String = after
                    .chars()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '_' || *ch == ':')
                    .collect();
                out.push((n + 1, path));
            }
        }
    }
    out
}

/// The top-level module a crate path starts with (`pipeline` of `pipeline::embed`).
fn head(path: &str) -> &str {
    path.split("::").next().unwrap_or(path)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The layer rule broken by one file (path relative to `src/`), one message each.
fn violations(rel: &str, src: &str) -> Vec<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let module = match parts.as_slice() {
        ["lib.rs"] | ["main.rs"] => return Vec::new(),
        [file] => file.trim_end_matches(".rs"),
        [dir, ..] => dir,
        [] => return Vec::new(),
    };
    let Some(allowed) = allowed(module) else {
        return vec![format!(
            "src/{rel}: module `{module}` is not in the layer table of tests/layers.rs; \
             add it there and to ARCHITECTURE.md"
        )];
    };
    let modules: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    let in_calibration = module == "calibration";
    let calib_rel = parts[1..].join("/");
    let mut found = Vec::new();
    for (line, path) in crate_paths(&code_only(src)) {
        let to = head(&path);
        if to == module || !modules.contains(to) {
            continue; // its own layer, or a crate-root item (SOFTWARE_NAME, …)
        }
        if !allowed.contains(&to) {
            found.push(format!(
                "src/{rel}:{line}: `{module}` may not import `{to}` (crate::{path})"
            ));
        } else if in_calibration && to == "pipeline" && !calibration_may_use_pipeline(&calib_rel) {
            found.push(format!(
                "src/{rel}:{line}: the run-time part of calibration may not import the pipeline \
                 (crate::{path}); put fitting under calibration/fit/"
            ));
        }
        if path.starts_with("calibration::fit")
            && module != "cli"
            && module != "explore"
            && !(in_calibration && calib_rel.starts_with("fit/"))
        {
            found.push(format!(
                "src/{rel}:{line}: calibration::fit serves only cli/ and explore/ \
                 (crate::{path})"
            ));
        }
    }
    if in_calibration && !calibration_may_use_pipeline(&calib_rel) {
        for (n, l) in code_only(src).lines().enumerate() {
            if l.contains("super::fit") || l.trim_start().starts_with("use fit::") {
                found.push(format!(
                    "src/{rel}:{}: the run-time part of calibration may not use fit/",
                    n + 1
                ));
            }
        }
    }
    found
}

#[test]
fn no_layer_imports_a_higher_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "only {} files under src/", files.len());
    let mut all = Vec::new();
    let mut paths_seen = 0;
    for f in &files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap();
        paths_seen += crate_paths(&code_only(&text)).len();
        all.extend(violations(&rel, &text));
    }
    // The scan must see the imports it judges.
    assert!(paths_seen > 100, "only {paths_seen} crate:: paths found");
    assert!(all.is_empty(), "layer rule broken:\n{}", all.join("\n"));
}

#[test]
fn the_check_catches_what_it_should_and_ignores_comments_and_strings() {
    // A lower layer naming a higher one, directly, in a group, or inline.
    let bad = "use crate::pipeline::Decision;\n\
               use crate::{record::Analysis, explain::Table};\n\
               fn f() { let _ = crate::app::run(); }\n";
    let v = violations("chat/context.rs", bad);
    assert_eq!(v.len(), 3, "{v:#?}");
    assert!(v[0].contains("src/chat/context.rs:1") && v[0].contains("`pipeline`"));
    assert!(v[1].contains(":2") && v[1].contains("`explain`"));
    assert!(v[2].contains(":3") && v[2].contains("`app`"));
    // Comments, doc links, strings, raw strings and char literals do not count.
    let quiet = "//! See [`crate::pipeline::Decision`].\n\
                 /* crate::app /* nested */ crate::cli */\n\
                 const S: &str = \"crate::app \\\" crate::cli\";\n\
                 const R: &str = r#\"crate::app \" crate::cli\"#;\n\
                 const C: char = '\"'; fn g<'a>(x: &'a str) -> &'a str { x }\n\
                 use crate::record::Analysis; use crate::SOFTWARE_NAME;\n";
    assert_eq!(violations("chat/context.rs", quiet), Vec::<String>::new());
    // Calibration's finer rules.
    assert_eq!(
        violations("calibration/file.rs", "use crate::pipeline::Pipeline;").len(),
        1
    );
    assert!(violations("calibration/fit/dataset.rs", "use crate::pipeline::load;").is_empty());
    assert!(violations("calibration/assess.rs", "use crate::pipeline::Pipeline;").is_empty());
    assert_eq!(
        violations("calibration/pic.rs", "use super::fit::kde::Kde;").len(),
        1
    );
    assert_eq!(
        violations("app/menu.rs", "use crate::calibration::fit::plots;").len(),
        1
    );
    assert!(violations("cli/eval.rs", "use crate::calibration::fit::plots;").is_empty());
    // A folder missing from the table is reported, not skipped.
    assert_eq!(violations("casefile/mod.rs", "").len(), 1);
    // The top layer may import everything below it; a bottom one nothing.
    assert!(violations("cli/mod.rs", "use crate::report::x; use crate::app::y;").len() == 1);
    assert_eq!(
        violations("record/face.rs", "use crate::progress::Ctl;").len(),
        1
    );
}
