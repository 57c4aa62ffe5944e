//! Fitting and measuring calibrations over labelled data sets: scanning a
//! data set and scoring its pairs ([`dataset`]), error-rate metrics
//! ([`metrics`]), cross-validated evaluation ([`evaluate`]) and plots
//! ([`plots`]). Only `calibrate` and `eval` use this; an analysis at run time
//! needs only the calibration file and its score lookups (the parent module).

pub mod dataset;
pub mod evaluate;
pub mod metrics;
pub mod plots;
