//! Slots: the regions, explanation methods and faces a question names. The
//! names come from the enums ([`Region::ALL`], the method enums, the two
//! faces); the data file adds synonyms. A region part named without a side
//! ("the eyes") means both sides; "the other cheek" means the side the last
//! turn did not ask about.

use super::intents::{FACES, SlotSynonyms, method_names};
use crate::record::Region;

/// What a question names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slots {
    /// Region names as in [`Region::name`].
    pub regions: Vec<String>,
    /// Method names as in the method enums (S0-, …, xmap-III).
    pub methods: Vec<String>,
    /// Face indices (0 = A, 1 = B).
    pub faces: Vec<usize>,
    /// The regions were named only by reference to the last turn ("the right one", "the other cheek").
    pub anaphoric: bool,
}

impl Slots {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty() && self.methods.is_empty() && self.faces.is_empty()
    }

    /// This turn's slots over the last turn's: each kind named now replaces the old one.
    pub fn over(self, last: &Slots) -> Slots {
        Slots {
            regions: pick(self.regions, &last.regions),
            methods: pick(self.methods, &last.methods),
            faces: pick(self.faces, &last.faces),
            anaphoric: self.anaphoric,
        }
    }
}

fn pick<T: Clone>(new: Vec<T>, old: &[T]) -> Vec<T> {
    if new.is_empty() { old.to_vec() } else { new }
}

/// Lower-case words separated by single spaces, padded with a space on each
/// side, so phrases match whole words: " the left eye ". Keeps + and − (as -)
/// for method names.
pub fn normalise(q: &str) -> String {
    let lower = q
        .to_lowercase()
        .replace(['−', '–'], "-")
        .replace(['’', '\''], "");
    let spaced: String = lower
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '+' || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    format!(
        " {} ",
        spaced.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

fn has(words: &str, phrase: &str) -> bool {
    words.contains(&format!(" {} ", phrase.to_lowercase()))
}

/// The slots a question names; `last` is the previous turn's (for "the other one").
pub fn extract(question: &str, syn: &SlotSynonyms, last: Option<&Slots>) -> Slots {
    let words = normalise(question);
    let mut regions = regions(&words, syn, last);
    let other = syn.other_side.iter().any(|w| has(&words, w));
    let mut anaphoric = other && !regions.is_empty();
    if regions.is_empty() && syn.side_words.iter().any(|w| has(&words, w)) {
        regions = by_side(&words, other, last);
        anaphoric = !regions.is_empty();
    }
    let mut faces = faces(&words, syn);
    if faces.is_empty() && regions.is_empty() {
        faces = faces_by_reference(&words, syn, other, last);
        anaphoric |= !faces.is_empty();
    }
    Slots {
        regions,
        methods: methods(&words, syn),
        faces,
        anaphoric,
    }
}

/// "and the second?", "the other photo?": a face named only through a last
/// turn that named one (by ordinal, or the face it did not name).
fn faces_by_reference(
    words: &str,
    syn: &SlotSynonyms,
    other: bool,
    last: Option<&Slots>,
) -> Vec<usize> {
    let Some(last) = last.filter(|l| !l.faces.is_empty()) else {
        return Vec::new();
    };
    let by_ordinal: Vec<usize> = FACES
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            syn.face_ordinals
                .get(**f)
                .is_some_and(|v| v.iter().any(|s| has(words, s)))
        })
        .map(|(i, _)| i)
        .collect();
    if !by_ordinal.is_empty() {
        return by_ordinal;
    }
    if other && syn.face_words.iter().any(|w| has(words, w)) {
        return (0..FACES.len())
            .filter(|i| !last.faces.contains(i))
            .collect();
    }
    Vec::new()
}

/// "the right one", "the other side": the last turn's region parts on the side named.
fn by_side(words: &str, other: bool, last: Option<&Slots>) -> Vec<String> {
    let Some(last) = last else {
        return Vec::new();
    };
    let flip = |side: &str| if side == "left" { "right" } else { "left" };
    let mut out = Vec::new();
    for r in &last.regions {
        let Some((side, part)) = r.split_once(' ') else {
            continue;
        };
        let want = if other {
            flip(side)
        } else if has(words, "left") {
            "left"
        } else if has(words, "right") {
            "right"
        } else {
            continue;
        };
        let name = format!("{want} {part}");
        if Region::ALL.iter().any(|x| x.name() == name) && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn regions(words: &str, syn: &SlotSynonyms, last: Option<&Slots>) -> Vec<String> {
    let (left, right) = (has(words, "left"), has(words, "right"));
    let other = syn.other_side.iter().any(|w| has(words, w));
    let mut out = Vec::new();
    for r in Region::ALL {
        let name = r.name();
        let mut parts = name.split(' ');
        let (side, part) = match (parts.next(), parts.next()) {
            (Some(s), Some(p)) => (Some(s), p),
            (Some(p), None) => (None, p),
            _ => continue,
        };
        let named = has(words, name)
            || has(words, part)
            || syn
                .region_parts
                .get(part)
                .is_some_and(|v| v.iter().any(|s| has(words, s)));
        if !named {
            continue;
        }
        let side_ok = match side {
            None => true,
            Some(s) if other => last.is_some_and(|l| {
                l.regions
                    .iter()
                    .any(|x| x.ends_with(part) && !x.starts_with(s))
            }),
            Some("left") => left || !right,
            Some(_) => right || !left,
        };
        if side_ok {
            out.push(name.to_string());
        }
    }
    out
}

fn methods(words: &str, syn: &SlotSynonyms) -> Vec<String> {
    method_names()
        .into_iter()
        .filter(|m| {
            has(words, m)
                || syn
                    .methods
                    .get(m)
                    .is_some_and(|v| v.iter().any(|s| has(words, s)))
        })
        .collect()
}

fn faces(words: &str, syn: &SlotSynonyms) -> Vec<usize> {
    FACES
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            syn.faces
                .get(**f)
                .is_some_and(|v| v.iter().any(|s| has(words, s)))
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::intents::IntentFile;

    #[test]
    fn regions_methods_and_faces_are_found() {
        let f = IntentFile::builtin().unwrap();
        let s = |q: &str, last: Option<&Slots>| extract(q, &f.slots, last);
        assert_eq!(
            s("How did the right brow do?", None).regions,
            ["right eyebrow"]
        );
        assert_eq!(s("and the eyes?", None).regions, ["left eye", "right eye"]);
        assert_eq!(s("what about the mouth", None).regions, ["lips"]);
        let last = s("the left cheek?", None);
        assert_eq!(last.regions, ["left cheek"]);
        assert_eq!(
            s("and the other cheek?", Some(&last)).regions,
            ["right cheek"]
        );
        let one = s("and the right one?", Some(&last));
        assert_eq!(
            (one.regions.as_slice(), one.anaphoric),
            (&["right cheek".to_string()][..], true)
        );
        assert_eq!(s("What is the S0− map?", None).methods, ["S0-"]);
        assert_eq!(s("explain greedy aggregation", None).methods, ["S1+"]);
        assert_eq!(s("what about face B?", None).faces, [1]);
        assert!(s("Is that right?", None).is_empty());
        let a = s("Is face A sharp?", None);
        let second = s("and the second?", Some(&a));
        assert_eq!(
            (second.faces.as_slice(), second.anaphoric),
            (&[1][..], true)
        );
        assert_eq!(s("and the other photo?", Some(&a)).faces, [1]);
        assert!(s("and the second?", None).faces.is_empty());
    }
}
