//! Chat: turns an analysis into context sentences and answers questions about
//! it (Pixels-to-Words §2.3). Reads an [`crate::analysis::Analysis`]; never
//! recomputes it. May call: `analysis`, `progress`.
