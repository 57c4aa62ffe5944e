//! The numbers an answer may state: every number of the analysis formatted
//! as the chat formats it, and the numbers found in a text. An answer stating
//! any other number invented it (the evaluation checks this).

use super::context::{fmt_mean, fmt_percent, fmt_ratio, fmt_similarity, fmt_threshold};
use crate::record::Analysis;
use std::collections::BTreeSet;

/// Every number the context may state, formatted exactly as the context does;
/// an answer containing any other number invented it.
pub fn stated_numbers(a: &Analysis) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    // Numbers inside the analysis' own texts (threshold source, names, paths) are copied verbatim.
    let mut texts = vec![a.threshold_source.clone(), a.model.name.clone()];
    texts.extend(a.images.iter().map(|i| i.path.clone()));
    for q in a.images.iter().filter_map(|i| i.quality.as_ref()) {
        texts.extend(q.reasons.iter().cloned());
        texts.push(q.thresholds.clone());
    }
    texts.extend(a.confidence.iter().map(|c| c.calibration.name.clone()));
    if let Some(e) = &a.evidence {
        texts.extend([e.lr_text(), e.bounds_text(), e.verbal.clone()]);
        texts.push(e.calibration.name.clone());
    }
    for t in &texts {
        s.extend(numbers_in(t));
    }
    s.insert(fmt_similarity(a.similarity));
    s.insert(fmt_threshold(a.threshold));
    for lvl in 1..=5 {
        s.insert(lvl.to_string());
    }
    if let Some(c) = &a.confidence {
        s.insert(format!("{}", c.pic_prior));
        for p in [c.c_score, c.pic_score, c.decision_confidence] {
            s.insert(fmt_percent(p).trim_end_matches('%').to_string());
        }
    }
    for t in a.explainability_table.iter().chain(a.xmap_table.iter()) {
        s.insert(t.rows.len().to_string());
        for (i, row) in t.rows.iter().enumerate() {
            s.insert((i + 1).to_string());
            s.insert(fmt_mean(row.mean));
            s.insert(fmt_ratio(row.ratio_of_ones));
        }
    }
    s
}

/// The numbers written in a text: runs of digits (with a decimal point or a
/// leading minus) not glued to letters, so "S0−", "SHA-256" and hashes are names, not numbers.
pub fn numbers_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in
        text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | ':' | '%'))
    {
        let w = word.trim_end_matches(['.', '?', '!']);
        if w.is_empty()
            || w.chars().any(|c| c.is_alphabetic() || c == '−' || c == '+')
            || w.contains("-") && !w.starts_with('-')
        {
            continue;
        }
        let digits = w.trim_start_matches('-');
        if digits.chars().next().is_some_and(|c| c.is_ascii_digit())
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            out.push(w.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_found_and_names_are_not() {
        let t = "The S0− map, SHA-256 ab12, score 0.7312; confidence 97.3%, rank 2 of 9 (-0.0520).";
        assert_eq!(numbers_in(t), vec!["0.7312", "97.3", "2", "9", "-0.0520"]);
    }
}
