//! A face recogniser as data: a manifest entry with a [`RecogniserSpec`]
//! (input size, colour order, normalisation, layout, output, alignment
//! template, threshold, licence) is all the pipeline needs to align a face
//! for the model, build its input tensor and read its embedding. Shipped
//! recognisers are in `models/manifest.json`; the user's own in the user
//! manifest ([`crate::resources::user_models`]).

use super::error::{PipelineError, Result};
use crate::record::ModelRef;
use crate::resources::user_models::{USER_MANIFEST, USER_SCHEMA, user_store, user_store_in};
use crate::resources::{ModelEntry, ModelStore, RecogniserSpec};
use ndarray::{Array4, ArrayView4, Axis};
use std::path::Path;

/// The recogniser used when none is named.
pub const DEFAULT_RECOGNISER: &str = "sface";

/// One recogniser: its manifest entry and spec, and the store holding its files.
#[derive(Clone, Debug)]
pub struct Recogniser {
    pub store: ModelStore,
    pub entry: ModelEntry,
    pub spec: RecogniserSpec,
    /// Added by the user (`facexplain models add`) rather than shipped.
    pub user: bool,
}

impl Recogniser {
    /// Recogniser `id` of `store`; an entry without a recogniser spec, or a
    /// spec this build cannot run, is refused naming the manifest.
    pub fn in_store(store: &ModelStore, id: &str) -> Result<Recogniser> {
        let entry = store.manifest.entry(id)?.clone();
        let spec = entry.recogniser.clone().ok_or_else(|| {
            manifest_error(store, format!("model {id:?} is not a face recogniser"))
        })?;
        let r = Recogniser {
            store: store.clone(),
            entry,
            spec,
            user: false,
        };
        r.validate()?;
        Ok(r)
    }

    /// Every recogniser of `store`, in manifest order.
    pub fn all_in(store: &ModelStore, user: bool) -> Result<Vec<Recogniser>> {
        store
            .manifest
            .models
            .iter()
            .filter(|e| e.recogniser.is_some())
            .map(|e| {
                Ok(Recogniser {
                    user,
                    ..Self::in_store(store, &e.id)?
                })
            })
            .collect()
    }

    /// The shipped recognisers (from `shipped`), then the user's (in `user_dir`).
    pub fn all_with(shipped: &ModelStore, user_dir: Option<&Path>) -> Result<Vec<Recogniser>> {
        let mut all = Self::all_in(shipped, false)?;
        let user = match user_dir {
            Some(d) => user_store_in(d)?,
            None => user_store()?,
        };
        all.extend(Self::all_in(&user, true)?);
        Ok(all)
    }

    /// The recogniser called `name` among the shipped ones and the user's.
    pub fn find(shipped: &ModelStore, name: &str) -> Result<Recogniser> {
        let all = Self::all_with(shipped, None)?;
        let known: Vec<String> = all.iter().map(|r| r.entry.id.clone()).collect();
        all.into_iter()
            .find(|r| r.entry.id.eq_ignore_ascii_case(name))
            .ok_or_else(|| PipelineError::UnknownModel {
                name: name.into(),
                known: known.join(", "),
            })
    }

    /// The names in `list` (comma-separated; `all` for every recogniser), in order.
    pub fn find_list(shipped: &ModelStore, list: &str) -> Result<Vec<Recogniser>> {
        if list.trim().eq_ignore_ascii_case("all") {
            return Self::all_with(shipped, None);
        }
        let mut out: Vec<Recogniser> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let r = Self::find(shipped, name)?;
            if !out.iter().any(|o| o.entry.id == r.entry.id) {
                out.push(r);
            }
        }
        Ok(out)
    }

    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// The identity an analysis records: the model's name and file hash.
    pub fn model_ref(&self) -> ModelRef {
        ModelRef {
            name: self.entry.name.clone(),
            sha256: self.entry.sha256.clone(),
        }
    }

    /// Threshold when no calibration gives one.
    pub fn default_threshold(&self) -> f32 {
        self.entry.default_threshold.unwrap_or(0.363)
    }

    /// Refuse a spec this build cannot run, naming the manifest and the field.
    pub fn validate(&self) -> Result<()> {
        let s = &self.spec;
        let bad = |reason: String| {
            Err(manifest_error(
                &self.store,
                format!("{}: {reason}", self.entry.id),
            ))
        };
        if !matches!(s.colour.as_str(), "RGB" | "BGR") {
            return bad(format!(
                "colour {:?}: expected \"RGB\" or \"BGR\"",
                s.colour
            ));
        }
        if !matches!(s.layout.as_str(), "NCHW" | "NHWC") {
            return bad(format!(
                "layout {:?}: expected \"NCHW\" or \"NHWC\"",
                s.layout
            ));
        }
        if s.std.iter().any(|v| !v.is_finite() || *v == 0.0)
            || s.mean.iter().any(|v| !v.is_finite())
        {
            return bad("mean and std must be finite and std non-zero".into());
        }
        let [w, h] = s.input_size;
        if !(8..=1024).contains(&w) || !(8..=1024).contains(&h) {
            return bad(format!(
                "input_size {w}x{h}: expected 8 to 1024 pixels a side"
            ));
        }
        // The maps, regions and what-if masks are square grids over the crop.
        if w != h {
            return bad(format!(
                "input_size {w}x{h}: only square inputs are supported"
            ));
        }
        if s.split.is_some() && s.run.is_some() {
            return bad("split and run: name one way to run the model, not both".into());
        }
        if s.fixed_batch.is_some_and(|b| b != 1) {
            return bad("fixed_batch: only 1 (or none, a dynamic batch) is supported".into());
        }
        Ok(())
    }

    /// How a crop tensor (NCHW, RGB, raw 0–255) becomes the model's input.
    pub fn prep(&self) -> Prep {
        Prep::from_spec(&self.spec)
    }
}

/// A problem of `store`'s manifest, naming its file (the user's or the shipped one).
fn manifest_error(store: &ModelStore, reason: String) -> PipelineError {
    let name = if store.manifest.schema == USER_SCHEMA {
        USER_MANIFEST
    } else {
        "manifest.json"
    };
    PipelineError::Manifest {
        file: store.dir.join(name),
        reason,
    }
}

/// Input conversion of a recogniser: channel order, `(x − mean) / std`, layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Prep {
    pub bgr: bool,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub nhwc: bool,
}

impl Prep {
    pub fn from_spec(s: &RecogniserSpec) -> Prep {
        Prep {
            bgr: s.colour == "BGR",
            mean: s.mean,
            std: s.std,
            nhwc: s.layout == "NHWC",
        }
    }

    /// True when the model takes the crop tensor as it is (SFace: RGB raw, NCHW).
    pub fn is_identity(&self) -> bool {
        !self.bgr && !self.nhwc && self.mean == [0.0; 3] && self.std == [1.0; 3]
    }

    /// The model's input for `x` (`[N, 3, H, W]`, RGB, raw 0–255).
    pub fn apply(&self, x: ArrayView4<f32>) -> Array4<f32> {
        let mut out = x.to_owned();
        for c in 0..3 {
            let src = if self.bgr { 2 - c } else { c };
            let (m, s) = (self.mean[c], self.std[c]);
            out.index_axis_mut(Axis(1), c)
                .zip_mut_with(&x.index_axis(Axis(1), src), |o, &v| *o = (v - m) / s);
        }
        if self.nhwc {
            out.permuted_axes([0, 2, 3, 1])
                .as_standard_layout()
                .into_owned()
        } else {
            out
        }
    }
}
