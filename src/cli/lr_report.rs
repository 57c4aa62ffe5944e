//! The likelihood-ratio part of `eval` and `calibrate`: per calibrator the
//! held-out Cllr, Cllr_min, Cllr_cal and ELUB bounds, the default and why,
//! a calibration's transfer to the set, and the Tippett, PAV and ECE plots.

use crate::calibration::fit::cllr::ece_curves;
use crate::calibration::fit::lr_eval::LrEvaluation;
use crate::calibration::fit::lr_plots;
use crate::calibration::fit::ranked::Ranked;
use crate::calibration::lr::LrModel;
use crate::record::evidence::lr_text;
use std::collections::BTreeMap;
use std::path::Path;

/// Lines describing a fitted LR model's validation.
pub(crate) fn model_lines(m: &LrModel) -> Vec<String> {
    let mut out = vec![format!(
        "likelihood ratios ({}-fold held-out, bits; Cllr 1 = uninformative): default calibrator {} ({})",
        m.folds, m.default, m.default_reason
    )];
    for (name, c) in &m.calibrators {
        let (v, b) = (&c.validation, &c.validation_bounded);
        out.push(format!(
            "  {name:<8} Cllr {:.5} (bounded {:.5})  Cllr_min {:.5}  Cllr_cal {:.5}  ELUB LR {} … {} (log10 {:.2} … {:.2})",
            v.cllr,
            b.cllr,
            v.cllr_min,
            v.cllr_cal,
            lr_text(c.log10_lower_bound),
            lr_text(c.log10_upper_bound),
            c.log10_lower_bound,
            c.log10_upper_bound
        ));
    }
    out
}

/// Lines for `eval`: this set's validation and the transfer of a calibration.
pub(crate) fn eval_lines(e: &LrEvaluation) -> Vec<String> {
    let mut out = model_lines(&e.on_this_set);
    if let Some(t) = &e.transfer {
        let sets = t
            .fitted_on
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        out.push(format!(
            "calibration {} ({} calibrator, fitted on {sets}) on this set: Cllr {:.5}, Cllr_min {:.5}, Cllr_cal {:.5}; {:.2} % of LRs clipped to its bounds (log10 {:.2} … {:.2}; this set supports {:.2} … {:.2}); misleading: {:.3} % of same-person pairs LR < 1, {:.4} % of different-people pairs LR > 1",
            t.calibration,
            t.calibrator,
            t.costs.cllr,
            t.costs.cllr_min,
            t.costs.cllr_cal,
            t.clipped * 100.0,
            t.bounds.0,
            t.bounds.1,
            t.bounds_supported_here.0,
            t.bounds_supported_here.1,
            t.misleading_hp * 100.0,
            t.misleading_hd * 100.0
        ));
    }
    out
}

/// Tippett, PAV and ECE plots of the default calibrator's held-out bounded LRs.
pub(crate) fn draw(
    dir: &Path,
    e: &LrEvaluation,
    text: bool,
    files: &mut BTreeMap<String, String>,
) -> crate::calibration::Result<()> {
    let m = &e.on_this_set;
    let c = &m.calibrators[&m.default];
    let title = format!("{} calibrator, held out", m.default);
    let r = Ranked::new(&e.held_out.0, &e.held_out.1);
    let mut out = |kind: &str, name: &str| {
        files.insert(kind.to_string(), name.to_string());
        dir.join(name)
    };
    lr_plots::tippett_plot(
        &out("tippett", "tippett.png"),
        &title,
        &r,
        (c.log10_lower_bound, c.log10_upper_bound),
        text,
    )?;
    let (php, phd) = r.pav_log10_lrs();
    let pav = (php.as_slice(), phd.as_slice());
    lr_plots::pav_plot(&out("pav", "pav.png"), &title, &r, pav, text)?;
    let curves = ece_curves(&r, pav);
    lr_plots::ece_plot(&out("ece", "ece.png"), &title, &curves, text)
}
