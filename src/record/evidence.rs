//! The strength of evidence of a comparison as a forensic report states it:
//! a likelihood ratio for two stated propositions, bounded by what the
//! calibration data supports (ELUB, Vergeer et al. 2016), with its verbal
//! equivalent on the ENFSI 2015 scale, the calibrator and the data behind it.

use super::analysis::CalibrationRef;
use serde::{Deserialize, Serialize};

/// One labelled data set a calibration was fitted on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSetRef {
    pub name: String,
    /// SHA-256 over the set's files (and pairs list when one was used).
    pub sha256: String,
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs_file: Option<String>,
}

/// The likelihood ratio of one comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Hp: "the two images show the same person".
    pub hp: String,
    /// Hd: "the two images show two different people".
    pub hd: String,
    /// LR = P(score | Hp) / P(score | Hd), after bounding.
    pub lr: f64,
    pub log10_lr: f64,
    /// The calibrator's log10 LR before bounding.
    pub log10_lr_unbounded: f64,
    /// The empirical lower and upper bounds (log10) the calibration data supports.
    pub log10_lower_bound: f64,
    pub log10_upper_bound: f64,
    /// True when the calibrator's LR lay outside the bounds and was clipped.
    pub clipped: bool,
    /// The verbal equivalent, e.g. "strong support for Hp (…) over Hd (…)".
    pub verbal: String,
    /// The scale's band words alone, e.g. "strong support".
    pub verbal_band: String,
    /// "Hp", "Hd" or "neither".
    pub favours: String,
    /// The verbal scale and its source.
    pub scale: String,
    /// Score-to-LR calibrator: "logistic", "pav" or "kde".
    pub calibrator: String,
    /// Prior probability of Hp behind `posterior_hp` (0.5: even odds).
    pub prior_hp: f64,
    /// P(Hp | score) = LR·O / (1 + LR·O) with prior odds O.
    pub posterior_hp: f64,
    pub calibration: CalibrationRef,
    /// The data sets the calibration was fitted on.
    pub data: Vec<DataSetRef>,
}

impl Evidence {
    /// "LR 7,762 (log10 3.89)" style: the LR in words a reader can check.
    pub fn lr_text(&self) -> String {
        lr_text(self.log10_lr)
    }

    /// The bounds as LRs, e.g. "1/1,800 … 78,000".
    pub fn bounds_text(&self) -> String {
        format!(
            "{} … {}",
            lr_text(self.log10_lower_bound),
            lr_text(self.log10_upper_bound)
        )
    }

    /// Total pairs behind the calibration: (genuine, impostor).
    pub fn pairs(&self) -> (usize, usize) {
        self.data.iter().fold((0, 0), |(g, i), d| {
            (g + d.genuine_pairs, i + d.impostor_pairs)
        })
    }
}

/// An LR as a reader sees it: "7,762" above 1, "1/340" below, to 3–4
/// significant figures (at most 2 decimals under 10).
pub fn lr_text(log10_lr: f64) -> String {
    let v = 10f64.powf(log10_lr.abs());
    let body = if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        group_thousands(v.round() as u64)
    };
    if log10_lr < 0.0 && body != "1.00" {
        format!("1/{body}")
    } else {
        body
    }
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A probability in per cent with as many decimals as it takes not to read
/// 100 % or 0 % when it is neither (at least one decimal).
pub fn percent_short_of_certain(p: f64) -> String {
    let mut d = 1;
    loop {
        let s = format!("{:.*}", d, p * 100.0);
        let at_edge = s.parse::<f64>().is_ok_and(|v| v >= 100.0 || v <= 0.0);
        if !at_edge || d >= 12 || p <= 0.0 || p >= 1.0 {
            return format!("{s} %");
        }
        d += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrs_and_percentages_read_as_a_report_writes_them() {
        assert_eq!(lr_text(0.0), "1.00");
        assert_eq!(lr_text(3.0), "1,000");
        assert_eq!(lr_text(78000f64.log10()), "78,000");
        assert_eq!(lr_text(-2.0), "1/100");
        assert_eq!(lr_text(1.5), "31.6");
        assert_eq!(percent_short_of_certain(0.5), "50.0 %");
        assert_eq!(percent_short_of_certain(0.99999), "99.999 %");
        assert_eq!(percent_short_of_certain(1.0 - 1e-7), "99.99999 %");
        assert_eq!(percent_short_of_certain(2e-6), "0.0002 %");
    }
}
