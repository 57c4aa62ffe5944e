//! Explanations built on the pipeline: occlusion engine, X-Maps (Knoche et
//! al.), Mery & Morris saliency maps, facial regions and the explainability
//! table. May call: `pipeline`, `progress`, `analysis`.
