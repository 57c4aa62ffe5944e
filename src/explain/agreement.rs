//! Method disagreement (issue 16): in one explainability table, a region on
//! which two maps of the same face put levels two or more apart (say level 1
//! in S1− and level 4 in S0+) is flagged, with a sentence naming the maps.
//! Levels are only compared within one table (saliency: 1 = most important;
//! X-Maps: 1 = most similar) and one face: a column named "S0- (A)" belongs to
//! face A; unsuffixed columns to the table's one face.

use crate::record::{Disagreement, ExplainabilityTable, TableRow};
use std::collections::BTreeMap;

/// Smallest level spread that counts as a disagreement.
pub const MIN_SPREAD: u8 = 2;

/// The face a column name ends with (`"S0- (A)"` → `("S0-", "A")`), or `(name, "")`.
pub fn split_face(column: &str) -> (&str, &str) {
    for f in ["A", "B"] {
        if let Some(base) = column.strip_suffix(&format!(" ({f})")) {
            return (base, f);
        }
    }
    (column, "")
}

/// The disagreements of one row of a table of kind `table` ("saliency" or "xmap").
pub fn of_row(table: &str, row: &TableRow) -> Vec<Disagreement> {
    let mut by_face: BTreeMap<&str, Vec<(&str, u8)>> = BTreeMap::new();
    for (col, &level) in &row.levels {
        let (name, face) = split_face(col);
        by_face.entry(face).or_default().push((name, level));
    }
    let mut out = Vec::new();
    for (face, levels) in by_face {
        let (Some(lo), Some(hi)) = (
            levels.iter().map(|l| l.1).min(),
            levels.iter().map(|l| l.1).max(),
        ) else {
            continue;
        };
        if hi - lo < MIN_SPREAD {
            continue;
        }
        let at = |l: u8| -> Vec<String> {
            levels
                .iter()
                .filter(|x| x.1 == l)
                .map(|x| x.0.to_string())
                .collect()
        };
        let (high, low) = (at(lo), at(hi));
        let what = if table == "xmap" {
            "similar"
        } else {
            "important"
        };
        let on = if face.is_empty() {
            String::new()
        } else {
            format!(" of face {face}")
        };
        let sentence = format!(
            "The maps disagree on the {}{on}: {} put{} it at level {lo} (most {what} = 1), {} at level {hi}.",
            row.region,
            high.join(", "),
            if high.len() == 1 { "s" } else { "" },
            low.join(", "),
        );
        out.push(Disagreement {
            table: table.into(),
            region: row.region.clone(),
            face: face.into(),
            spread: hi - lo,
            high,
            high_level: lo,
            low,
            low_level: hi,
            sentence,
        });
    }
    out
}

/// Every disagreement of the saliency table and the X-Map table, in their row order.
pub fn disagreements(
    saliency: Option<&ExplainabilityTable>,
    xmap: Option<&ExplainabilityTable>,
) -> Vec<Disagreement> {
    let mut out = Vec::new();
    for (kind, t) in [("saliency", saliency), ("xmap", xmap)] {
        for row in t.iter().flat_map(|t| &t.rows) {
            out.extend(of_row(kind, row));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::agreement_summary;

    fn row(levels: &[(&str, u8)]) -> TableRow {
        TableRow {
            region: "nose".into(),
            levels: levels.iter().map(|(m, l)| (m.to_string(), *l)).collect(),
            mean: 0.0,
            ratio_of_ones: 0.0,
        }
    }

    #[test]
    fn a_spread_of_two_within_one_face_is_flagged() {
        let r = row(&[("S0- (A)", 1), ("GD (A)", 3), ("S0- (B)", 1), ("GD (B)", 2)]);
        let d = of_row("saliency", &r);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].face.as_str(), d[0].spread), ("A", 2));
        assert_eq!(
            (d[0].high.clone(), d[0].low.clone()),
            (vec!["S0-".to_string()], vec!["GD".to_string()])
        );
        assert!(
            d[0].sentence.contains("nose of face A"),
            "{}",
            d[0].sentence
        );
        // Across faces alone (A level 1, B level 5) is not a disagreement of the methods.
        assert!(of_row("xmap", &row(&[("xmap-II (A)", 1), ("xmap-II (B)", 5)])).is_empty());
        assert!(agreement_summary(&[]).starts_with("The maps agree"));
        assert!(agreement_summary(&d).contains("1 region: nose (A)"));
    }
}
