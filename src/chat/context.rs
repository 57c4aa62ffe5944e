//! The chat context (Pixels-to-Words §2.3): an analysis written as plain-text
//! sentences, each stating one fact or definition completely. Every number is
//! copied from the analysis through one formatting function per quantity, the
//! same text the GUI shows; nothing is recomputed. The numbers an answer may
//! state are listed by [`super::numbers`].

use crate::record::{Analysis, Decision, ExplainabilityTable, TableRow};

pub use super::numbers::{numbers_in, stated_numbers};

/// Similarity score as shown everywhere (4 decimals).
pub fn fmt_similarity(x: f32) -> String {
    format!("{x:.4}")
}

/// Decision threshold as shown everywhere (4 decimals).
pub fn fmt_threshold(x: f32) -> String {
    format!("{x:.4}")
}

/// A probability (C-Score, PIC-Score, decision confidence) as a percentage, 1 decimal.
/// A probability as a percentage with as many decimals as it takes not to
/// read 100.0 % (or 0.0 %) when it is not certain.
pub fn fmt_percent(p: f64) -> String {
    crate::record::evidence::percent_short_of_certain(p).replace(" %", "%")
}

/// Mean level of a table row (2 decimals).
pub fn fmt_mean(x: f64) -> String {
    format!("{x:.2}")
}

/// Ratio of 1s of a table row (2 decimals).
pub fn fmt_ratio(x: f64) -> String {
    format!("{x:.2}")
}

/// What a context sentence is about; the answerer retrieves sentences by it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactKey {
    Model,
    ModelHash,
    Images,
    FaceRecognition,
    Similarity,
    Threshold,
    Decision,
    Reasoning,
    RegionSummary,
    DecisionConfidence,
    CScore,
    PicScore,
    NoConfidence,
    MostImportant,
    LeastImportant,
    /// One row of the explainability table (region name as in the analysis).
    Region(String),
    TableHow,
    LeftRight,
    NoTable,
    /// What one explanation method's map shows (method name as in the analysis).
    Method(String),
    OutputImages,
    HeatmapColours,
    XMaps,
    /// One row of the X-Map table.
    XmapRegion(String),
    /// The X-Map table's first region: the one that makes the faces look most alike.
    XmapMostSimilar,
    /// The X-Map table's last region: the one that makes them look least alike.
    XmapLeastSimilar,
    Xai,
    LimitsCalibration,
    LimitsModel,
}

/// One context sentence and what it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub key: FactKey,
    pub text: String,
}

/// The context of one analysis: its sentences in reading order.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    pub facts: Vec<Fact>,
}

impl Context {
    /// All sentences joined into one passage (what an extractive QA model reads).
    pub fn text(&self) -> String {
        self.facts
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Sentences about `key` (usually one).
    pub fn get(&self, key: &FactKey) -> Vec<&Fact> {
        self.facts.iter().filter(|f| &f.key == key).collect()
    }

    pub fn has(&self, key: &FactKey) -> bool {
        self.facts.iter().any(|f| &f.key == key)
    }

    /// Build the context sentences of an analysis.
    pub fn build(a: &Analysis) -> Context {
        let mut b = Builder { facts: Vec::new() };
        b.general(a);
        b.decision(a);
        b.confidence(a);
        b.table(a);
        b.maps(a);
        b.definitions(a);
        Context { facts: b.facts }
    }
}

struct Builder {
    facts: Vec<Fact>,
}

/// How the sentences of one ranked table (saliency or X-Map) name things.
struct TableKind {
    name: &'static str,
    scale: &'static str,
    first: (FactKey, &'static str),
    last: (FactKey, &'static str),
    row: fn(String) -> FactKey,
}

const SALIENCY: TableKind = TableKind {
    name: "explainability table",
    scale: "1 = most important, 5 = least",
    first: (
        FactKey::MostImportant,
        "The most important facial region for this decision",
    ),
    last: (
        FactKey::LeastImportant,
        "The least important facial region for this decision",
    ),
    row: FactKey::Region,
};

const XMAP: TableKind = TableKind {
    name: "X-Map table",
    scale: "1 = most similar, 5 = least similar",
    first: (
        FactKey::XmapMostSimilar,
        "In the X-Maps the region that makes the two faces look most alike",
    ),
    last: (
        FactKey::XmapLeastSimilar,
        "In the X-Maps the region that makes the two faces look least alike",
    ),
    row: FactKey::XmapRegion,
};

impl Builder {
    fn push(&mut self, key: FactKey, text: String) {
        self.facts.push(Fact { key, text });
    }

    fn general(&mut self, a: &Analysis) {
        self.push(
            FactKey::Model,
            format!(
                "The face recognition model used is {}, a neural network that turns each aligned face into an embedding vector so that two faces can be compared.",
                a.model.name
            ),
        );
        self.push(
            FactKey::ModelHash,
            format!(
                "The SHA-256 of the model file {} is {}.",
                a.model.name, a.model.sha256
            ),
        );
        let names: Vec<String> = a.images.iter().map(|i| i.path.clone()).collect();
        if names.len() == 2 {
            self.push(
                FactKey::Images,
                format!(
                    "The first image compared is {} and the second image is {}.",
                    names[0], names[1]
                ),
            );
        }
        self.push(
            FactKey::FaceRecognition,
            "Face verification compares the faces in two images and decides whether they show the same person.".into(),
        );
    }

    fn decision(&mut self, a: &Analysis) {
        let (sim, thr) = (fmt_similarity(a.similarity), fmt_threshold(a.threshold));
        self.push(
            FactKey::Similarity,
            format!(
                "The similarity score of the two faces is {sim}; it is the cosine similarity of their embeddings, and a higher score means the faces look more alike."
            ),
        );
        self.push(
            FactKey::Threshold,
            format!(
                "The decision threshold is {thr} (source: {}); a pair whose similarity is at or above the threshold is declared a match.",
                a.threshold_source
            ),
        );
        let meaning = match a.decision {
            Decision::Match => "the system judges that the two faces belong to the same person",
            Decision::NonMatch => "the system judges that the two faces belong to different people",
        };
        self.push(
            FactKey::Decision,
            format!(
                "The decision for this pair of images is {}: {meaning}.",
                a.decision
            ),
        );
        let relation = match a.decision {
            Decision::Match => "at or above",
            Decision::NonMatch => "below",
        };
        self.push(
            FactKey::Reasoning,
            format!(
                "The decision was reached by comparing the similarity score {sim} with the threshold {thr}: the score is {relation} the threshold, so the pair is declared a {}.",
                a.decision
            ),
        );
        if let Some(t) = &a.explainability_table
            && let (Some(first), Some(last)) = (t.rows.first(), t.rows.last())
        {
            let second = t
                .rows
                .get(1)
                .map(|r| format!(" and the {}", r.region))
                .unwrap_or_default();
            self.push(
                FactKey::RegionSummary,
                format!(
                    "The facial regions that mattered most for the similarity were the {}{second}, and the one that mattered least was the {}.",
                    first.region, last.region
                ),
            );
        }
    }

    fn confidence(&mut self, a: &Analysis) {
        let Some(c) = &a.confidence else {
            self.push(
                FactKey::NoConfidence,
                "This analysis has no calibrated confidence: no calibration was applied, so the system cannot say how sure it is beyond the score and the threshold.".into(),
            );
            return;
        };
        self.push(
            FactKey::DecisionConfidence,
            format!(
                "The system is {} confident that the {} decision is correct (the decision confidence, calibrated on {}).",
                fmt_percent(c.decision_confidence),
                a.decision,
                c.calibration.name
            ),
        );
        self.push(
            FactKey::CScore,
            format!(
                "The C-Score of this comparison is {}; the C-Score (Knoche et al.) is a confidence read from a curve fitted to the genuine and impostor distance histograms of the calibration data.",
                fmt_percent(c.c_score)
            ),
        );
        self.push(
            FactKey::PicScore,
            format!(
                "The PIC-Score of this comparison is {}; the PIC-Score (Neto et al.) is the probability that the two faces are of the same person, from density estimates of genuine and impostor scores with equal priors.",
                fmt_percent(c.pic_score)
            ),
        );
        self.push(
            FactKey::LimitsCalibration,
            format!(
                "The confidences are only as reliable as the calibration data they were estimated on ({}); images unlike that data may get over- or under-confident values.",
                c.calibration.name
            ),
        );
    }

    fn table(&mut self, a: &Analysis) {
        let Some(t) = &a.explainability_table else {
            self.push(
                FactKey::NoTable,
                "This analysis has no explainability table, so it cannot say which facial regions mattered most or least; run the comparison with explanations to get one.".into(),
            );
            return;
        };
        self.ranking(t, &SALIENCY);
        self.push(
            FactKey::TableHow,
            format!(
                "The explainability table gives each of {} facial regions a level per saliency map ({}): each map's value range is split into five intervals, a region's level is the interval most of its pixels fall in, 1 is the most important and 5 the least, and regions are ranked by the lowest mean level, ties broken by the ratio of 1s (the share of maps giving level 1).",
                t.rows.len(),
                t.methods.join(", ")
            ),
        );
        self.push(
            FactKey::LeftRight,
            "Left and right in the region names are the subject's own left and right, not the viewer's.".into(),
        );
        if let Some(x) = &a.xmap_table {
            self.ranking(x, &XMAP);
        }
    }

    /// The first and last region of a ranked table and one sentence per row.
    fn ranking(&mut self, t: &ExplainabilityTable, kind: &TableKind) {
        let n = t.rows.len();
        let ends = [
            (t.rows.first(), 1, kind.first.clone()),
            (t.rows.last(), n, kind.last.clone()),
        ];
        for (row, rank, (key, lead)) in ends {
            if let Some(r) = row {
                self.push(
                    key,
                    format!(
                        "{lead} is the {} (rank {rank} of {n} in the {}, mean level {}, ratio of 1s {}).",
                        r.region,
                        kind.name,
                        fmt_mean(r.mean),
                        fmt_ratio(r.ratio_of_ones)
                    ),
                );
            }
        }
        for (i, row) in t.rows.iter().enumerate() {
            self.push(
                (kind.row)(row.region.clone()),
                format!(
                    "In the {} the {} is ranked {} of {n}, with levels {} ({}), mean level {} and ratio of 1s {}.",
                    kind.name,
                    row.region,
                    i + 1,
                    levels_text(t, row),
                    kind.scale,
                    fmt_mean(row.mean),
                    fmt_ratio(row.ratio_of_ones)
                ),
            );
        }
    }

    fn maps(&mut self, a: &Analysis) {
        let mut methods: Vec<String> = a
            .explainability_table
            .iter()
            .flat_map(|t| t.methods.clone())
            .collect();
        for m in &a.maps {
            if !methods.contains(&m.name) && !m.name.to_lowercase().starts_with("xmap") {
                methods.push(m.name.clone());
            }
        }
        for m in &methods {
            if let Some(text) = method_text(m) {
                self.push(FactKey::Method(m.clone()), text);
            }
        }
        let listed = if methods.is_empty() {
            "S0−, S1−, S0+, S1+, their average AVG, and the X-Maps".to_string()
        } else {
            methods.join(", ")
        };
        self.push(
            FactKey::OutputImages,
            format!("The output images are saliency heatmaps drawn over the two aligned faces: each one shows which parts of the face drove the similarity score, one map per explanation method ({listed})."),
        );
        self.push(
            FactKey::HeatmapColours,
            "In the saliency heatmaps the hot end of the colour map marks the areas that matter most for the similarity and the cold end those that matter least; in the X-Maps green marks areas that make the faces similar and red areas that make them dissimilar.".into(),
        );
        self.push(
            FactKey::XMaps,
            "The X-Maps (Knoche et al.) cover each face with black squares at many positions and measure how the distance between the faces changes: areas whose occlusion pushes the faces apart are similar (green), areas whose occlusion brings them closer are dissimilar (red).".into(),
        );
    }

    fn definitions(&mut self, _a: &Analysis) {
        self.push(
            FactKey::Xai,
            "Explainable artificial intelligence (XAI) is the set of methods that make the decisions of an AI system understandable to people, for example by showing which parts of the input led to a decision.".into(),
        );
        self.push(
            FactKey::LimitsModel,
            "The decision is a statistical estimate by the model, not proof of identity: the model can be wrong, especially on poor, occluded or unusual images, so a trained examiner should review important cases.".into(),
        );
    }
}

/// "S0− 2, S1− 1, …" for one row, in the table's method order.
pub fn levels_text(t: &ExplainabilityTable, row: &TableRow) -> String {
    t.methods
        .iter()
        .filter_map(|m| row.levels.get(m).map(|l| format!("{m} {l}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A method name reduced for matching: lower case, ASCII minus, no spaces.
pub fn method_slug(name: &str) -> String {
    name.to_lowercase()
        .replace(['−', '–'], "-")
        .replace([' ', '_'], "")
}

/// What a method's map shows (Mery & Morris S0−/S1−/S0+/S1+/AVG, Knoche X-Map I/II/III).
pub fn method_text(name: &str) -> Option<String> {
    let what = match method_slug(name).as_str() {
        "s0-" => {
            "single removal (Mery & Morris): how much the similarity drops when a soft hole removes each part of the probe face on its own"
        }
        "s1-" => {
            "greedy removal (Mery & Morris): the parts whose removal, one after another, lowers the similarity the most"
        }
        "s0+" => {
            "single aggregation (Mery & Morris): how much each part of the face, added alone to an almost blank image, raises the similarity"
        }
        "s1+" => {
            "greedy aggregation (Mery & Morris): the parts that, added one after another, raise the similarity the most"
        }
        "avg" => "the average of the four Mery & Morris maps S0−, S1−, S0+ and S1+",
        "xmap-i" | "xmapi" => {
            "X-Map method I (Knoche et al.): each occlusion of one face compared with all occlusions of the other"
        }
        "xmap-ii" | "xmapii" => {
            "X-Map method II (Knoche et al.): each occlusion of one face compared with the other face unoccluded"
        }
        "xmap-iii" | "xmapiii" => {
            "X-Map method III (Knoche et al.): both faces occluded at the same place"
        }
        _ => return None,
    };
    Some(format!("The {name} map shows {what}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_fixed() {
        assert_eq!(fmt_similarity(0.73124), "0.7312");
        assert_eq!(fmt_percent(0.9734), "97.3%");
        assert_eq!(fmt_mean(1.4), "1.40");
        assert_eq!(method_slug("S0−"), "s0-");
    }
}
