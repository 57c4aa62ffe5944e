//! Pairs lists: which pairs of a dataset to use, as given. Two formats:
//! LFW's `pairs.txt` (`name n1 n2` genuine, `name1 n1 name2 n2` impostor,
//! a first line of fold counts skipped) and CSV `a,b[,label]` with paths
//! relative to the dataset folder (header optional; without a label the
//! folders decide). A line naming an image the dataset does not have is
//! kept as an unresolved pair with the reason: the explorer shows it,
//! `calibrate` and `eval` refuse it. A malformed line is an error.

use super::dataset::Dataset;
use crate::calibration::{CalibrationError, Result};
use crate::resources::hash::sha256_hex;
use std::collections::HashMap;
use std::path::Path;

/// Largest pairs list read (LFW's is 100 KB).
pub const MAX_PAIRS_BYTES: u64 = 64 << 20;

/// A pair of images (indices into [`Dataset::images`]) and whether it is genuine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub genuine: bool,
}

/// A listed pair naming an image the dataset does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// Position among all the list's pairs (resolved and not), from 0.
    pub position: usize,
    /// Line of the list (from 1).
    pub line: usize,
    /// The images as the list names them (a path, or `identity/#n` in LFW's format).
    pub file_a: String,
    pub file_b: String,
    pub identity_a: String,
    pub identity_b: String,
    pub genuine: bool,
    /// Which image is missing and why, e.g. `s7/#99: no image 99 of identity "s7"`.
    pub reason: String,
}

/// Pairs read from a list.
#[derive(Clone, Debug)]
pub struct PairList {
    pub name: String,
    pub sha256: String,
    /// The pairs whose two images the dataset has, in list order.
    pub pairs: Vec<Pair>,
    /// The others, in list order.
    pub unresolved: Vec<Unresolved>,
}

/// One entry of a list, in list order.
#[derive(Clone, Copy, Debug)]
pub enum Listed<'a> {
    Pair(&'a Pair),
    Unresolved(&'a Unresolved),
}

impl PairList {
    /// Every listed pair in list order, resolved or not.
    pub fn entries(&self) -> impl Iterator<Item = Listed<'_>> {
        let mut pairs = self.pairs.iter();
        let mut missing = self.unresolved.iter().peekable();
        (0..self.pairs.len() + self.unresolved.len()).filter_map(move |k| {
            match missing.next_if(|u| u.position == k) {
                Some(u) => Some(Listed::Unresolved(u)),
                None => pairs.next().map(Listed::Pair),
            }
        })
    }

    /// An error for the first unresolved pair (what `calibrate` and `eval`
    /// make of a list naming missing images); `path` is the list's.
    pub fn require_all(&self, path: &Path) -> Result<()> {
        match self.unresolved.first() {
            None => Ok(()),
            Some(u) => Err(CalibrationError::Pairs {
                path: path.into(),
                line: u.line,
                reason: u.reason.clone(),
            }),
        }
    }
}

/// An image as a list names it: found (index) or missing (name, identity, why).
enum Named {
    Found(usize),
    Missing {
        file: String,
        identity: String,
        reason: String,
    },
}

/// Index of image number `n` of `identity` in `index` ([`Dataset::by_stem`]):
/// the first file named `<identity>_<n:04>.*` (LFW) or `<n>.*` (ORL).
fn find(index: &HashMap<(&str, String), usize>, identity: &str, n: u32) -> Option<usize> {
    let at = |stem: String| index.get(&(identity, stem)).copied();
    match (at(format!("{identity}_{n:04}")), at(n.to_string())) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Readers of both formats over one dataset.
struct Lookup<'a> {
    dataset: &'a Dataset,
    by_stem: HashMap<(&'a str, String), usize>,
    by_rel: HashMap<&'a str, usize>,
}

impl<'a> Lookup<'a> {
    fn new(dataset: &'a Dataset) -> Lookup<'a> {
        Lookup {
            dataset,
            by_stem: dataset.by_stem(),
            by_rel: dataset
                .images
                .iter()
                .enumerate()
                .map(|(i, im)| (im.rel.as_str(), i))
                .collect(),
        }
    }

    fn identity_of(&self, i: usize) -> &'a str {
        &self.dataset.identities[self.dataset.images[i].identity]
    }

    /// Image `n` of `identity` (LFW's format).
    fn numbered(&self, identity: &str, n: u32) -> Named {
        if let Some(i) = find(&self.by_stem, identity, n) {
            return Named::Found(i);
        }
        let file = format!("{identity}/#{n}");
        let reason = if self.dataset.identities.iter().any(|x| x == identity) {
            format!(
                "no image {n} of identity {identity:?} (looked for {identity}_{n:04}.* and {n}.*)"
            )
        } else {
            format!("no identity folder {identity:?}")
        };
        Named::Missing {
            reason: format!("{file}: {reason}"),
            file,
            identity: identity.to_string(),
        }
    }

    /// The image at `path` relative to the dataset folder (CSV format).
    fn path(&self, path: &str) -> Named {
        let mut rel = path.trim().replace('\\', "/");
        if let Some(r) = Path::new(&rel)
            .strip_prefix(&self.dataset.root)
            .ok()
            .and_then(|r| r.to_str())
        {
            rel = r.to_string();
        }
        let rel = rel.trim_start_matches("./").to_string();
        if let Some(&i) = self.by_rel.get(rel.as_str()) {
            return Named::Found(i);
        }
        let on_disk = self.dataset.root.join(&rel);
        let reason = if on_disk.is_file() {
            "not an image of an identity sub-folder of the dataset".to_string()
        } else {
            format!("no such file in {}", self.dataset.root.display())
        };
        Named::Missing {
            identity: rel.split_once('/').map_or("", |(id, _)| id).to_string(),
            reason: format!("{rel}: {reason}"),
            file: rel,
        }
    }
}

/// What a line of a list becomes.
enum Line {
    Skip,
    Entry(Named, Named, Option<bool>),
}

/// An LFW line: `name n1 n2` (genuine) or `name1 n1 name2 n2` (impostor).
fn lfw_line(l: &Lookup, line: &str, first: bool) -> std::result::Result<Line, String> {
    let t: Vec<&str> = line.split_whitespace().collect();
    if first && t.len() <= 2 && t.iter().all(|s| s.parse::<u64>().is_ok()) {
        return Ok(Line::Skip); // fold counts
    }
    let num = |s: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("{s:?} is not an image number"))
    };
    match t.as_slice() {
        [name, n1, n2] => Ok(Line::Entry(
            l.numbered(name, num(n1)?),
            l.numbered(name, num(n2)?),
            Some(true),
        )),
        [a, _, b, _] if a == b => Err(format!(
            "an impostor line names the same identity {a:?} twice"
        )),
        [a, n1, b, n2] => Ok(Line::Entry(
            l.numbered(a, num(n1)?),
            l.numbered(b, num(n2)?),
            Some(false),
        )),
        _ => Err(format!(
            "expected `name n1 n2` or `name1 n1 name2 n2` (LFW pairs.txt), or `a,b[,label]` (CSV), got {line:?}"
        )),
    }
}

/// A CSV label: genuine (1, true, yes, genuine, same, match, mated) or
/// impostor (0, false, no, impostor, different, non-match, nonmatch, non-mated).
fn label(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "genuine" | "same" | "match" | "mated" => Some(true),
        "0" | "false" | "no" | "impostor" | "different" | "non-match" | "nonmatch"
        | "non-mated" => Some(false),
        _ => None,
    }
}

/// The fields of a CSV line (double quotes around a field that holds a
/// comma; `""` inside them is a quote).
fn csv_fields(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let f = fields.last_mut().expect("one field at least");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                f.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if f.trim().is_empty() => {
                f.clear();
                quoted = true;
            }
            (',', false) => fields.push(String::new()),
            (c, _) => f.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

/// A CSV line `a,b[,label]`; the first may be a header (a label that is
/// not one, or two names that are no files of the dataset and no paths).
fn csv_line(l: &Lookup, line: &str, first: bool) -> std::result::Result<Line, String> {
    let f = csv_fields(line)?;
    if !(2..=3).contains(&f.len()) || f[0].is_empty() || f[1].is_empty() {
        return Err(format!("expected `a,b` or `a,b,label`, got {line:?}"));
    }
    let given = f.get(2).filter(|s| !s.is_empty());
    let (a, b) = (l.path(&f[0]), l.path(&f[1]));
    let is_path = |s: &str| s.contains(['/', '\\', '.']);
    let header = first
        && (given.is_some_and(|g| label(g).is_none())
            || (matches!((&a, &b), (Named::Missing { .. }, Named::Missing { .. }))
                && !is_path(&f[0])
                && !is_path(&f[1])));
    if header {
        return Ok(Line::Skip);
    }
    let genuine = match given {
        None => None,
        Some(g) => Some(label(g).ok_or_else(|| {
            format!("label {g:?}: expected 1/0, genuine/impostor, same/different, true/false")
        })?),
    };
    Ok(Line::Entry(a, b, genuine))
}

/// Read a pairs list in LFW's or the CSV format (CSV when its first line
/// with content has a comma); blank lines and `#` comments are skipped.
pub fn read_pairs(path: &Path, dataset: &Dataset) -> Result<PairList> {
    let err = |line: usize, reason: String| CalibrationError::Pairs {
        path: path.into(),
        line,
        reason,
    };
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > MAX_PAIRS_BYTES {
        return Err(err(
            0,
            format!(
                "the list is {} MB, more than a pairs list can be ({} MB)",
                size >> 20,
                MAX_PAIRS_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| err(0, "not UTF-8 text".into()))?;
    let lookup = Lookup::new(dataset);
    let content = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let csv = text.lines().find(content).is_some_and(|l| l.contains(','));
    let mut list = PairList {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: sha256_hex(&bytes),
        pairs: Vec::new(),
        unresolved: Vec::new(),
    };
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if !content(&line) {
            continue;
        }
        let parsed = if csv {
            csv_line(&lookup, line, first)
        } else {
            lfw_line(&lookup, line, first)
        };
        first = false;
        let (a, b, genuine) = match parsed.map_err(|r| err(i + 1, r))? {
            Line::Skip => continue,
            Line::Entry(a, b, g) => (a, b, g),
        };
        let position = list.pairs.len() + list.unresolved.len();
        match (a, b) {
            (Named::Found(a), Named::Found(b)) => list.pairs.push(Pair {
                a,
                b,
                genuine: genuine
                    .unwrap_or_else(|| dataset.images[a].identity == dataset.images[b].identity),
            }),
            (a, b) => {
                let name = |n: &Named| match n {
                    Named::Found(i) => (
                        dataset.images[*i].rel.clone(),
                        lookup.identity_of(*i).to_string(),
                        None,
                    ),
                    Named::Missing {
                        file,
                        identity,
                        reason,
                    } => (file.clone(), identity.clone(), Some(reason.clone())),
                };
                let ((file_a, identity_a, why_a), (file_b, identity_b, why_b)) =
                    (name(&a), name(&b));
                let reason = [why_a, why_b].into_iter().flatten().collect::<Vec<_>>();
                list.unresolved.push(Unresolved {
                    position,
                    line: i + 1,
                    genuine: genuine.unwrap_or(!identity_a.is_empty() && identity_a == identity_b),
                    file_a,
                    file_b,
                    identity_a,
                    identity_b,
                    reason: reason.join("; "),
                });
            }
        }
    }
    if list.pairs.is_empty() && list.unresolved.is_empty() {
        return Err(err(0, "the list holds no pairs".into()));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Ctl;

    /// Identities a (a/1.png, a/2.png) and b (b/1.png), and a stray root file.
    fn set() -> (tempfile::TempDir, Dataset) {
        let dir = tempfile::tempdir().unwrap();
        for (id, f) in [("a", "1.png"), ("a", "2.png"), ("b", "1.png")] {
            std::fs::create_dir_all(dir.path().join(id)).unwrap();
            std::fs::write(dir.path().join(id).join(f), format!("{id}{f}")).unwrap();
        }
        std::fs::write(dir.path().join("stray.png"), b"x").unwrap();
        let ds = Dataset::scan(dir.path(), Ctl::none()).unwrap();
        (dir, ds)
    }

    fn read(dir: &Path, ds: &Dataset, text: &str, name: &str) -> Result<PairList> {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        read_pairs(&p, ds)
    }

    #[test]
    fn csv_with_and_without_header_and_label() {
        let (dir, ds) = set();
        let want = vec![
            Pair {
                a: 0,
                b: 1,
                genuine: true,
            },
            Pair {
                a: 0,
                b: 2,
                genuine: false,
            },
        ];
        for text in [
            "a/1.png,a/2.png\na/1.png,b/1.png\n",
            "file_a,file_b\na/1.png,a/2.png\n./a/1.png, b\\1.png\n",
            "a,b,label\na/1.png,a/2.png,1\n\"a/1.png\",b/1.png,impostor\n",
            "# comment\n\na/1.png,a/2.png,same\na/1.png,b/1.png,0\n",
        ] {
            let l = read(dir.path(), &ds, text, "p.csv").unwrap();
            assert_eq!(l.pairs, want, "{text}");
            assert!(l.unresolved.is_empty(), "{text}");
        }
        // A label is used as given, even against the folders.
        let l = read(dir.path(), &ds, "a/1.png,b/1.png,genuine\n", "p.csv").unwrap();
        assert!(l.pairs[0].genuine);
        // Absolute paths inside the dataset are taken as relative.
        let abs = format!("{},a/2.png\n", dir.path().join("a/1.png").display());
        assert_eq!(read(dir.path(), &ds, &abs, "p.csv").unwrap().pairs[0].b, 1);
    }

    #[test]
    fn missing_images_are_unresolved_in_place_and_bad_lines_are_errors() {
        let (dir, ds) = set();
        let l = read(
            dir.path(),
            &ds,
            "a/1.png,a/2.png\na/9.png,a/1.png\nstray.png,b/1.png,0\nb/1.png,a/2.png\n",
            "p.csv",
        )
        .unwrap();
        assert_eq!(l.pairs.len(), 2);
        let u = &l.unresolved;
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].position, u[0].line), (1, 2));
        assert_eq!(
            (u[0].file_a.as_str(), u[0].identity_a.as_str()),
            ("a/9.png", "a")
        );
        assert!(u[0].genuine, "both in folder a");
        assert!(
            u[0].reason.starts_with("a/9.png: no such file"),
            "{}",
            u[0].reason
        );
        assert!(
            u[1].reason.contains("not an image of an identity"),
            "{}",
            u[1].reason
        );
        assert!(!u[1].genuine);
        let order: Vec<String> = l
            .entries()
            .map(|e| match e {
                Listed::Pair(p) => format!("{}-{}", p.a, p.b),
                Listed::Unresolved(u) => format!("?{}", u.line),
            })
            .collect();
        assert_eq!(order, ["0-1", "?2", "?3", "2-1"]);
        let e = l.require_all(Path::new("p.csv")).unwrap_err().to_string();
        assert!(
            e.contains("p.csv") && e.contains("line 2") && e.contains("a/9.png"),
            "{e}"
        );

        // LFW: a missing image number and a missing identity folder.
        let l = read(dir.path(), &ds, "1\na 1 2\na 1 7\na 1 zed 1\n", "pairs.txt").unwrap();
        assert_eq!(l.pairs.len(), 1);
        assert_eq!(l.unresolved[0].file_b, "a/#7");
        assert!(
            l.unresolved[0]
                .reason
                .contains("no image 7 of identity \"a\"")
        );
        assert!(
            l.unresolved[1]
                .reason
                .contains("no identity folder \"zed\"")
        );
        assert!(!l.unresolved[1].genuine);

        for (text, what) in [
            ("a/1.png\n", "or `a,b[,label]` (CSV)"),
            (
                "a/1.png,a/2.png\na/1.png,a/2.png,maybe\n",
                "label \"maybe\"",
            ),
            ("a/1.png,a/2.png,1,2\n", "expected `a,b`"),
            ("\"a/1.png,a/2.png\n", "not closed"),
            ("a/1.png,,1\n", "expected `a,b`"),
        ] {
            let e = read(dir.path(), &ds, text, "bad.csv")
                .unwrap_err()
                .to_string();
            assert!(e.contains("bad.csv") && e.contains(what), "{text}: {e}");
        }
        let e = read(dir.path(), &ds, "a,b,label\n", "empty.csv").unwrap_err();
        assert!(e.to_string().contains("no pairs"), "{e}");
    }
}
