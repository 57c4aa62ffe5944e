//! The verbal equivalents of likelihood ratios and the propositions they are
//! stated for, read from `assets/verbal-scale/enfsi-2015.json`: the scale of
//! the ENFSI Guideline for Evaluative Reporting in Forensic Science (2015) —
//! 1 no support; 2–10 weak; 10–100 moderate; 100–1,000 moderately strong;
//! 1,000–10,000 strong; 10,000–1,000,000 very strong; above 1,000,000
//! extremely strong support — with the same words for Hd when LR < 1.

use serde::Deserialize;
use std::sync::OnceLock;

/// The shipped scale (a file a person edits; compiled in).
pub const SCALE_JSON: &str = include_str!("../../assets/verbal-scale/enfsi-2015.json");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub lr_from: f64,
    pub words: String,
}

/// A verbal scale and the propositions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub name: String,
    pub source: String,
    pub convention: String,
    /// The prosecution-side proposition (same person).
    pub hp: String,
    /// The defence-side proposition (different people).
    pub hd: String,
    pub no_support: String,
    pub bands: Vec<Band>,
}

/// Which proposition an LR favours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Favours {
    Hp,
    Hd,
    Neither,
}

impl Scale {
    /// Parse and check a scale: bands ascending from above 1.
    pub fn parse(text: &str) -> Result<Scale, String> {
        let s: Scale = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if s.bands.is_empty() || s.bands[0].lr_from <= 1.0 {
            return Err("the first band must start above LR 1".into());
        }
        if s.bands.windows(2).any(|w| w[0].lr_from >= w[1].lr_from) {
            return Err("band edges must ascend".into());
        }
        Ok(s)
    }

    /// The compiled-in ENFSI 2015 scale.
    pub fn enfsi() -> &'static Scale {
        static S: OnceLock<Scale> = OnceLock::new();
        S.get_or_init(|| {
            Scale::parse(SCALE_JSON)
                .unwrap_or_else(|e| panic!("assets/verbal-scale/enfsi-2015.json: {e}"))
        })
    }

    /// The band's words and which proposition they support, for a log10 LR.
    pub fn words(&self, log10_lr: f64) -> (&str, Favours) {
        let favours = if log10_lr >= 0.0 {
            Favours::Hp
        } else {
            Favours::Hd
        };
        let m = log10_lr.abs();
        match self.bands.iter().rev().find(|b| m >= b.lr_from.log10()) {
            Some(b) => (&b.words, favours),
            None => (&self.no_support, Favours::Neither),
        }
    }

    /// The full verbal equivalent, e.g. "strong support for Hp (the two images
    /// show the same person) over Hd (…)".
    pub fn sentence(&self, log10_lr: f64) -> String {
        let (w, f) = self.words(log10_lr);
        let (hp, hd) = (format!("Hp ({})", self.hp), format!("Hd ({})", self.hd));
        match f {
            Favours::Hp => format!("{w} for {hp} over {hd}"),
            Favours::Hd => format!("{w} for {hd} over {hp}"),
            Favours::Neither => format!("the findings {w}: {hp}, {hd}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_enfsi_table_both_ways() {
        let s = Scale::enfsi();
        let w = |lr: f64| s.words(lr.log10());
        assert_eq!(w(1.0), (s.no_support.as_str(), Favours::Neither));
        assert_eq!(w(1.9).1, Favours::Neither);
        assert_eq!(w(2.0), ("weak support", Favours::Hp));
        assert_eq!(w(50.0).0, "moderate support");
        assert_eq!(w(500.0).0, "moderately strong support");
        assert_eq!(w(5000.0).0, "strong support");
        assert_eq!(w(5e5).0, "very strong support");
        assert_eq!(w(5e7).0, "extremely strong support");
        assert_eq!(w(1.0 / 5000.0), ("strong support", Favours::Hd));
        assert_eq!(w(0.2), ("weak support", Favours::Hd));
        assert!(
            s.sentence(3.5)
                .starts_with("strong support for Hp (the two images show the same person)")
        );
        assert!(
            s.sentence(-1.5)
                .starts_with("moderate support for Hd (the two images show two different people)")
        );
    }

    #[test]
    fn a_scale_out_of_order_is_refused() {
        let bad = SCALE_JSON.replace("\"lr_from\": 10,", "\"lr_from\": 1000000,");
        assert!(Scale::parse(&bad).unwrap_err().contains("ascend"));
    }
}
