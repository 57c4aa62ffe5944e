//! The conversation: the last answered turn's intent and slots, against
//! which follow-ups are resolved. "why?" and "is that high?" go to the intent
//! the last intent names for them in the data file (`why`, `high`; "can I
//! trust that?" `trust`; else the same intent); "and the right eye?" / "what about face B?" repeat the last
//! intent with the new slots; "start over" forgets everything.

use super::classify::{Classifier, Ranked};
use super::intents::IntentFile;
use super::slots::Slots;

/// The last answered turn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversation {
    last: Option<(usize, Slots)>,
}

impl Conversation {
    pub fn clear(&mut self) {
        self.last = None;
    }

    pub fn record(&mut self, intent: usize, slots: Slots) {
        self.last = Some((intent, slots));
    }

    pub fn last_slots(&self) -> Option<&Slots> {
        self.last.as_ref().map(|(_, s)| s)
    }

    /// The last answered intent's index.
    pub fn last_intent(&self) -> Option<usize> {
        self.last.as_ref().map(|(i, _)| *i)
    }
}

/// What a question asks once follow-ups are resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// Answer this intent with these slots.
    Intent(usize, Slots),
    /// "start over" (the intent's index).
    StartOver(usize),
    /// A follow-up with no earlier turn to follow (the follow-up intent's index).
    NoContext(usize),
    /// Nothing fits well enough.
    Unknown,
}

/// Resolve the classified question against the conversation.
pub fn resolve(
    file: &IntentFile,
    classifier: &Classifier,
    ranked: &Ranked,
    found: Slots,
    conv: &Conversation,
) -> Resolved {
    let name = |i: usize| file.intents[i].name.as_str();
    let idx = |n: &str| file.index(n);
    let (best, _) = ranked.best();
    let last = conv.last.as_ref();
    let (target, slots) = match name(best) {
        "start_over" => return Resolved::StartOver(best),
        kind @ ("follow_why" | "follow_high" | "follow_trust") => {
            // With nothing to follow, the question is read on its own ("Explain why.").
            let Some((li, ls)) = last else {
                return match best_answerable(file, classifier, ranked) {
                    Some(t) => Resolved::Intent(retarget(file, t, &found), found),
                    None => Resolved::NoContext(best),
                };
            };
            let t = file.intents[*li]
                .follow_target(kind)
                .and_then(idx)
                .unwrap_or(*li);
            (t, ls.clone())
        }
        "follow_slot" => match last {
            Some((li, ls)) if !found.is_empty() => (*li, found.over(ls)),
            _ => match best_answerable(file, classifier, ranked) {
                Some(t) => (t, found),
                None if last.is_none() => return Resolved::NoContext(best),
                None => return Resolved::Unknown,
            },
        },
        // "and the right one?": a region named only through the last turn keeps the last intent.
        _ => match last {
            Some((li, ls)) if found.anaphoric => (*li, found.over(ls)),
            _ => (best, found),
        },
    };
    Resolved::Intent(retarget(file, target, &slots), slots)
}

/// The best-ranked intent that is not a follow-up, if it clears the refusal threshold.
fn best_answerable(file: &IntentFile, classifier: &Classifier, ranked: &Ranked) -> Option<usize> {
    ranked
        .scores
        .iter()
        .find(|(i, _)| !file.intents[*i].follow_up)
        .filter(|(_, s)| *s >= classifier.min_score)
        .map(|(i, _)| *i)
}

/// A question about the ranking that names a region asks for that region's
/// row: of the saliency table, or of the X-Map table for the X-Map intents.
fn retarget(file: &IntentFile, target: usize, slots: &Slots) -> usize {
    if slots.regions.is_empty() {
        return target;
    }
    let to = match file.intents[target].name.as_str() {
        "most_important" | "least_important" | "table" => "region",
        "xmap_alike" | "xmap_unlike" => "xmap_region",
        _ => return target,
    };
    file.index(to).unwrap_or(target)
}
