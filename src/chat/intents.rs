//! The question intents of the default answerer and their example phrasings.
//! A question is matched to the intent whose examples it is closest to in
//! MiniLM space; the "out of scope" intents collect questions the analysis
//! cannot answer so they are refused instead of answered with a random fact.

/// What a question asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Intent {
    Decision,
    Reasoning,
    Confidence,
    CScore,
    PicScore,
    /// Most or least important region (the answerer reads the polarity from the words).
    Importance,
    Region,
    Table,
    Xai,
    OutputImages,
    Colours,
    XMaps,
    Method,
    Score,
    Threshold,
    Model,
    ModelHash,
    Images,
    FaceRecognition,
    Limits,
    LeftRight,
    /// Questions about the person (age, name, gender, mood…): not in an analysis.
    OutPerson,
    /// Questions about the photos' origin (place, time, camera…): not in an analysis.
    OutPhoto,
    /// Error rates, accuracy, benchmarks: not in an analysis.
    OutMetrics,
    /// Anything else (general knowledge, chit-chat, requests).
    OutOther,
}

impl Intent {
    /// True for the intents that are refused.
    pub fn out_of_scope(self) -> bool {
        matches!(
            self,
            Intent::OutPerson | Intent::OutPhoto | Intent::OutMetrics | Intent::OutOther
        )
    }
}

/// Example phrasings per intent (the answerer's nearest-neighbour memory).
pub const EXAMPLES: &[(Intent, &[&str])] = &[
    (
        Intent::Decision,
        &[
            "Give me the result.",
            "What have you decided about the two photos?",
            "What is the final answer?",
            "What is the decision?",
            "What was decided?",
            "What is the result of the comparison?",
            "Is it a match?",
            "Do the two faces match?",
            "Are these the same person?",
            "Is this the same person in both pictures?",
            "Do both photos show one individual?",
            "What is the outcome?",
            "What is the verdict for this pair?",
            "Match or non-match?",
            "Did the system accept or reject the pair?",
            "Are they different people?",
            "What did the system conclude about the two images?",
        ],
    ),
    (
        Intent::Reasoning,
        &[
            "What is the conclusion based on?",
            "On what is the verdict based?",
            "How did the system reach its result?",
            "What made you decide so?",
            "How did you come to this decision?",
            "Why did you decide that?",
            "How was the decision made?",
            "Explain the decision.",
            "What is the reasoning behind the result?",
            "Why is it a match?",
            "Why is it not a match?",
            "What led to this conclusion?",
            "On what basis was this decided?",
            "How does the system decide whether faces match?",
            "Justify the result.",
            "What made you say that?",
        ],
    ),
    (
        Intent::Confidence,
        &[
            "How much can I trust this?",
            "Are you sure?",
            "How sure is the system?",
            "How sure are you about the decision?",
            "How confident is the system?",
            "What is the confidence of the decision?",
            "How certain is this result?",
            "How reliable is this decision?",
            "Can I trust this result?",
            "What is the probability that the decision is correct?",
            "How likely is the answer to be right?",
            "Is the system certain?",
            "What is the confidence level?",
        ],
    ),
    (
        Intent::CScore,
        &[
            "What is the C-Score?",
            "What does the C-Score mean?",
            "What is the value of the C score?",
            "Explain the C-Score confidence.",
        ],
    ),
    (
        Intent::PicScore,
        &[
            "What is the PIC-Score?",
            "What does the PIC score mean?",
            "What is the value of the PIC-Score?",
            "Explain the PIC-Score.",
        ],
    ),
    (
        Intent::Importance,
        &[
            "What is the highest-ranked region?",
            "What is the lowest-ranked region?",
            "Which region is ranked first?",
            "Which region comes last in the ranking?",
            "What part of the face affected the score most?",
            "What is the most important feature of this decision?",
            "Which facial region was the most important?",
            "Which part of the face mattered most?",
            "What feature contributed most to the similarity?",
            "Which region had the biggest influence?",
            "What part of the face drove the decision?",
            "Which area was most decisive?",
            "Where on the face did the system focus?",
            "What is the least important feature of this decision?",
            "Which facial region was the least important?",
            "Which part of the face mattered least?",
            "Which region had the smallest influence?",
            "Which feature did not matter for the decision?",
        ],
    ),
    (
        Intent::Region,
        &[
            "How important was the nose?",
            "What role did the eyes play?",
            "What level did the chin get?",
            "Where does the left cheek rank?",
            "How much did the lips matter?",
            "What are the levels of the right eyebrow?",
            "Did the mouth matter for the decision?",
            "Tell me about the left eye region.",
        ],
    ),
    (
        Intent::Table,
        &[
            "What is the explainability table?",
            "How is the table computed?",
            "How are the regions ranked?",
            "What do the levels mean?",
            "What does a level of 1 mean?",
            "What is the ratio of ones?",
            "What does the mean column show?",
            "Which regions are in the table?",
        ],
    ),
    (
        Intent::Xai,
        &[
            "What is explainable AI?",
            "What does XAI mean?",
            "Define explainable artificial intelligence.",
            "What is explainability?",
            "What does explainable AI stand for?",
            "Explain what XAI is.",
            "What is interpretable machine learning?",
        ],
    ),
    (
        Intent::OutputImages,
        &[
            "What are these output images?",
            "What do the pictures show?",
            "What are the heatmaps?",
            "What are the saliency maps?",
            "What do the maps show?",
            "What am I looking at in the images?",
            "What are the coloured images?",
            "What are the visual explanations?",
            "What do the overlays on the faces mean?",
        ],
    ),
    (
        Intent::Colours,
        &[
            "What do the colours mean?",
            "What does red mean in the map?",
            "What does green mean?",
            "How do I read the colours of the heatmap?",
            "What do the bright areas mean?",
        ],
    ),
    (
        Intent::XMaps,
        &[
            "What are X-Maps?",
            "How are the X-Maps made?",
            "What does an X-Map show?",
            "What is occlusion?",
        ],
    ),
    (
        Intent::Method,
        &[
            "What does the S0- map show?",
            "What is S1+?",
            "What is greedy removal?",
            "What is single aggregation?",
            "What does the AVG map mean?",
            "How is the S1- map computed?",
            "What are the explanation methods?",
        ],
    ),
    (
        Intent::Score,
        &[
            "What value did the comparison give?",
            "What is the similarity score?",
            "What is the score?",
            "How similar are the two faces?",
            "What is the cosine similarity?",
            "What score did the pair get?",
            "How close are the embeddings?",
            "What is the comparison score value?",
            "Give me the similarity.",
        ],
    ),
    (
        Intent::Threshold,
        &[
            "What score does a pair need to be a match?",
            "What is the cut-off value?",
            "What was the score compared against?",
            "What is the threshold?",
            "What is the decision threshold?",
            "What score is needed for a match?",
            "Where is the cut-off?",
            "Which threshold was used?",
            "What is the minimum similarity for a match?",
            "Where does the threshold come from?",
        ],
    ),
    (
        Intent::Model,
        &[
            "What is the recognition system called?",
            "Which model was used?",
            "What face recognition model is this?",
            "What network compared the faces?",
            "Which recogniser made the embeddings?",
            "What is the name of the model?",
            "What algorithm is used for recognition?",
        ],
    ),
    (
        Intent::ModelHash,
        &[
            "What is the hash of the model?",
            "What is the SHA-256 of the model file?",
            "Which model file version was used?",
        ],
    ),
    (
        Intent::Images,
        &[
            "Which images were compared?",
            "What are the file names of the images?",
            "Which files are in this analysis?",
            "What is the first image?",
        ],
    ),
    (
        Intent::FaceRecognition,
        &[
            "What is face verification?",
            "What is face recognition?",
            "What does this system do?",
            "What is this tool for?",
        ],
    ),
    (
        Intent::Limits,
        &[
            "What are the limitations?",
            "Can the system be wrong?",
            "What are the limits of this analysis?",
            "Is this proof of identity?",
            "How good is the calibration?",
            "Should I rely on this in court?",
            "What could go wrong?",
        ],
    ),
    (
        Intent::LeftRight,
        &[
            "Is left the viewer's left or the subject's left?",
            "Which side is left?",
            "Whose left and right are meant?",
        ],
    ),
    (
        Intent::OutPerson,
        &[
            "How old is the person?",
            "What is the person's name?",
            "Who is this?",
            "Is the person a man or a woman?",
            "What gender is the face?",
            "What ethnicity is the person?",
            "Is the person smiling?",
            "What emotion does the face show?",
            "What colour is the person's hair?",
            "Does the person wear glasses?",
            "Is the person famous?",
            "What is the person's nationality?",
            "How tall is the person?",
            "Is this person a criminal?",
            "What is the person's eye colour?",
        ],
    ),
    (
        Intent::OutPhoto,
        &[
            "Where was the photo taken?",
            "When was the picture taken?",
            "What camera took the photo?",
            "Who took the picture?",
            "Is the photo edited or fake?",
            "Is this a deepfake?",
            "What is in the background?",
            "What time of day is it in the photo?",
            "How old is the photograph?",
            "What was the lighting like?",
        ],
    ),
    (
        Intent::OutMetrics,
        &[
            "What is the false match rate?",
            "What is the accuracy of the model?",
            "What is the equal error rate?",
            "How many people was the model trained on?",
            "What is the false non-match rate at this threshold?",
            "How fast is the model?",
            "How well does the model do on LFW?",
            "What is the ROC curve?",
            "How many parameters does the network have?",
            "What dataset was the model trained on?",
        ],
    ),
    (
        Intent::OutOther,
        &[
            "What is the weather today?",
            "What is the capital of France?",
            "Tell me a joke.",
            "Who won the football match yesterday?",
            "Can you book me a flight?",
            "What is two plus two?",
            "Write a poem.",
            "Hello, how are you?",
            "What is the meaning of life?",
            "Translate this into German.",
            "What is your favourite colour?",
            "How do I cook pasta?",
            "What is the stock price of Apple?",
            "Who are you?",
        ],
    ),
];

/// Cue words per intent: a question containing one (as a word or a word
/// beginning) leans toward that intent; a cue of several words counts once per
/// word (a longer phrase is more specific). They separate intents whose
/// example phrasings sit close together in MiniLM space (decision vs.
/// reasoning, score vs. threshold vs. model) and carry synonyms the examples
/// do not cover.
#[rustfmt::skip]
pub const CUES: &[(Intent, &[&str])] = &[
    (Intent::Decision, &["decision", "decid", "verdict", "result", "outcome", "same", "different", "conclu", "call", "accept", "reject", "answer", "identity", "identical", "one person", "two people", "one and the same", "or not", "yes or no"]),
    (Intent::Reasoning, &["why", "reason", "rationale", "based on", "basis", "arrive", "reach", "come to", "came to", "came about", "come up with", "justif", "led to", "lead to", "walk me through", "how was", "how did", "how do you know", "evidence", "support", "determin", "figure", "explain how", "explain why", "follow from", "because", "how come"]),
    (Intent::Confidence, &["sure", "confiden", "certain", "trust", "reliab", "rely", "depend", "probab", "likely", "chance", "odds", "doubt", "mistake", "wrong", "correct"]),
    (Intent::Importance, &["important", "importance", "matter", "influen", "contribut", "relevant", "key", "role", "decisive", "significan", "useful", "rank", "first", "last", "top", "bottom", "lowest", "highest", "most", "least", "the most", "the least", "greatest", "biggest", "strongest", "weakest", "smallest", "barely", "hardly", "where", "look", "focus", "attention", "weight", "effect", "impact", "drove", "driv", "region", "feature", "part of the face", "area"]),
    (Intent::Score, &["simil", "score", "alike", "cosine", "number", "value"]),
    (Intent::Threshold, &["threshold", "compared with", "compared against", "compared to", "need", "above which", "above what", "cut off", "cutoff", "boundary", "required", "minimum", "needed", "considered", "count as", "counts as", "has to be", "have to be", "must be", "acceptance", "exceed", "surpass"]),
    (Intent::Model, &["model", "network", "algorithm", "recogniser", "recognizer", "name of the", "called"]),
    (Intent::Xai, &["explainable", "xai", "explainability"]),
    (Intent::OutputImages, &["output", "heat", "saliency", "overlay", "visuali", "pictures", "images", "maps", "highlight", "coloured", "colored", "colours", "colors", "green", "magenta", "pink", "purple", "displayed"]),
    (Intent::OutPerson, &["old", "age", "name", "gender", "male", "female", "man or", "woman", "ethnic", "race", "happy", "sad", "smil", "emotion", "mood", "hair", "beard", "makeup", "make up", "glasses", "wearing", "tattoo", "nationality", "country", "religio", "job", "profession", "married", "handed", "height", "tall", "who", "whose", "examiner", "investigator", "officer", "suspect", "witness", "phone", "address", "birth"]),
    (Intent::OutPhoto, &["taken", "camera", "where", "when", "year", "deepfake", "fake", "edited", "background", "lighting"]),
    (Intent::OutMetrics, &["rate", "accuracy", "trained", "training", "dataset", "eer", "roc", "lfw", "parameters", "fast", "speed"]),
    (Intent::OutOther, &["weather", "capital", "joke", "pizza", "president", "football", "flight", "poem", "recipe", "stock", "restaurant", "book", "movie", "song"]),
];

/// Intents whose questions usually name another intent's subject: a
/// threshold question names the score, a reasoning or confidence question
/// names the decision or the model that made it ("How sure is the model?"). When a question has a cue of the child, the parent's
/// cues count for the child too, so those words do not pull it to the parent.
pub const CUE_PARENTS: &[(Intent, Intent)] = &[
    (Intent::Threshold, Intent::Score),
    (Intent::Reasoning, Intent::Decision),
    (Intent::Confidence, Intent::Decision),
    (Intent::Reasoning, Intent::Model),
    (Intent::Confidence, Intent::Model),
];

/// Words that point to an intent only as the focus of a "what/which" question
/// ("Which system…", "What part…"), where they name the thing asked for.
#[rustfmt::skip]
pub const FOCUS_CUES: &[(Intent, &[&str])] = &[
    (Intent::Model, &["system", "software", "engine", "net", "recogni"]),
    (Intent::Importance, &["part", "area", "feature", "region"]),
    (Intent::Threshold, &["limit", "bar", "minimum"]),
];
