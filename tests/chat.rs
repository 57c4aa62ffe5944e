//! Chat engine tests: context sentences, MiniLM embeddings, the BERT-QA path
//! with a tiny model built here, the default answerer on the question set
//! (per-type table printed), refusals, and the `ask` CLI on fixtures and on a
//! real `compare --json` output.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use facexplain::chat::context::{Context, FactKey, fmt_similarity, numbers_in, stated_numbers};
use facexplain::chat::embed::{SentenceEmbedder, dot};
use facexplain::chat::eval::{EvalReport, Expect, FOLLOW_UPS, QuestionSet, TYPES, check, evaluate};
use facexplain::chat::qa::{QaModel, WindowParams, context_windows};
use facexplain::chat::{AnswerPath, ChatEngine};
use facexplain::record::Analysis;
use facexplain::resources::ModelStore;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Analysis {
    Analysis::read(&root().join("tests/chat_fixtures").join(name)).expect("fixture reads")
}

/// One engine (MiniLM loaded once) shared by the tests of this binary.
fn engine() -> std::sync::MutexGuard<'static, ChatEngine> {
    static ENGINE: OnceLock<Mutex<ChatEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let store = ModelStore::locate().expect("manifest");
            let emb = SentenceEmbedder::load(&store)
                .expect("MiniLM in models/minilm (run scripts/setup.sh)");
            Mutex::new(ChatEngine::from_parts(emb, None).expect("engine"))
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

#[test]
fn context_states_only_numbers_of_the_analysis() {
    for name in ["match.json", "non_match.json", "plain.json"] {
        let a = fixture(name);
        let ctx = Context::build(&a);
        let allowed = stated_numbers(&a);
        for f in &ctx.facts {
            for n in numbers_in(&f.text) {
                assert!(
                    allowed.contains(&n),
                    "{name}: {n} in {:?} is not from the analysis",
                    f.text
                );
            }
        }
        let decision = &ctx.get(&FactKey::Decision)[0].text;
        assert!(
            decision.contains(&format!("is {}:", a.decision)),
            "{decision}"
        );
        assert!(
            ctx.get(&FactKey::Similarity)[0]
                .text
                .contains(&fmt_similarity(a.similarity))
        );
    }
    let m = Context::build(&fixture("match.json"));
    assert!(
        m.get(&FactKey::MostImportant)[0]
            .text
            .contains("is the nose (rank 1 of 9")
    );
    assert!(
        m.get(&FactKey::LeastImportant)[0]
            .text
            .contains("is the right cheek (rank 9 of 9")
    );
    assert!(
        m.get(&FactKey::DecisionConfidence)[0]
            .text
            .contains("99.9% confident that the match decision")
    );
    assert!(
        m.get(&FactKey::Region("left eye".into()))[0]
            .text
            .contains("ranked 2 of 9")
    );
    let p = Context::build(&fixture("plain.json"));
    assert!(
        p.has(&FactKey::NoTable)
            && p.has(&FactKey::NoConfidence)
            && !p.has(&FactKey::MostImportant)
    );
}

#[test]
fn minilm_embeddings_are_normalised_and_meaningful() {
    let e = engine();
    let emb = e.embedder();
    let texts = [
        "What is the decision?",
        "What was decided about the pair?",
        "What is the weather in Paris today?",
    ];
    let v = emb.embed(&texts).unwrap();
    for x in &v {
        let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        assert_eq!(x.len(), 384);
    }
    assert!(
        dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.2,
        "{} vs {}",
        dot(&v[0], &v[1]),
        dot(&v[0], &v[2])
    );
    // Padding in a batch does not change a sentence's embedding; a long text is not cut at 128 tokens.
    let single = emb.embed_one(texts[2]).unwrap();
    assert!(dot(&single, &v[2]) > 0.99999);
    let long = "the nose ".repeat(100);
    let longer = format!("{long} and finally the chin");
    let (a, b) = (
        emb.embed_one(&long).unwrap(),
        emb.embed_one(&longer).unwrap(),
    );
    assert!(
        dot(&a, &b) < 0.99999,
        "text after token 128 must still count"
    );
}

/// A tiny `BertForQuestionAnswering` folder: random encoder weights from a
/// seeded RNG, a character-level vocab.txt, and `qa_outputs` set to zero so
/// every span of a window is equally likely (the expected answer is then known).
fn tiny_qa_model(dir: &Path, zero_head: bool) {
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in "abcdefghijklmnopqrstuvwxyz0123456789".chars() {
        vocab.push(c.to_string());
        vocab.push(format!("##{c}"));
    }
    for c in ".,;:()%?!'-/+&".chars() {
        vocab.push(c.to_string());
    }
    std::fs::write(dir.join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
    let config = serde_json::json!({
        "architectures": ["BertForQuestionAnswering"], "model_type": "bert",
        "vocab_size": vocab.len(), "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512, "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
        "pad_token_id": 0
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let cfg: candle_transformers::models::bert::Config = serde_json::from_value(config).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    candle_transformers::models::bert::BertModel::load(vb.pp("bert"), &cfg).unwrap();
    candle_nn::linear(cfg.hidden_size, 2, vb.pp("qa_outputs")).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let data = varmap.data().lock().unwrap();
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let n = var.elem_count();
        let values: Vec<f32> = if zero_head && name.starts_with("qa_outputs") {
            vec![0.0; n]
        } else {
            (0..n).map(|_| rng.random_range(-0.1..0.1)).collect()
        };
        var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap())
            .unwrap();
    }
    drop(data);
    varmap.save(dir.join("model.safetensors")).unwrap();
}

#[test]
fn qa_model_loads_windows_and_decodes_spans() {
    let dir = tempfile::tempdir().unwrap();
    tiny_qa_model(dir.path(), true);
    let mut qa = QaModel::load(dir.path()).unwrap();
    // ASCII sentences only, so the character-level vocabulary covers every character.
    let facts = Context::build(&fixture("match.json")).facts;
    let ctx = facts
        .iter()
        .filter(|f| f.text.is_ascii())
        .map(|f| f.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let question = "what is the score?";
    // Uniform logits: in a window of n context tokens every span has p = 1/n², the best is the
    // window's first token, and the shortest window (the last) wins. Character-level vocab:
    // each letter or digit is one token, so the context is several windows long.
    qa.params = WindowParams {
        max_len: 64,
        overlap: 16,
        max_question: 64,
        max_answer: 30,
    };
    let n_ctx = ctx.chars().filter(|c| !c.is_whitespace()).count();
    let n_q = question.chars().filter(|c| !c.is_whitespace()).count();
    let windows = context_windows(n_ctx, n_q, &qa.params);
    assert!(windows.len() > 10, "{} windows", windows.len());
    let (s, e) = *windows.last().unwrap();
    let span = qa.answer(question, &ctx).unwrap().expect("a span");
    let expected_p = 1.0 / ((e - s) as f32).powi(2);
    assert!(
        (span.probability - expected_p).abs() < 1e-6,
        "{} vs {expected_p}",
        span.probability
    );
    let nth_token = ctx
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .nth(s)
        .unwrap();
    assert_eq!(
        (span.start, span.end),
        (nth_token.0, nth_token.0 + nth_token.1.len_utf8())
    );
    assert_eq!(span.text, ctx[span.start..span.end]);

    // Random head: the span is a piece of the context, probabilities are proper, results repeat.
    let dir2 = tempfile::tempdir().unwrap();
    tiny_qa_model(dir2.path(), false);
    let qa2 = QaModel::load(dir2.path()).unwrap();
    let a = qa2.answer(question, &ctx).unwrap().unwrap();
    assert_eq!(a, qa2.answer(question, &ctx).unwrap().unwrap());
    assert!(a.probability > 0.0 && a.probability <= 1.0);
    assert!(a.start < a.end && a.text == ctx[a.start..a.end]);
    assert!(qa2.answer(question, "").unwrap().is_none());

    // A folder that is not a QA model is a clear error naming the file.
    let empty = tempfile::tempdir().unwrap();
    let err = QaModel::load(empty.path())
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("config.json"), "{err}");
}

#[test]
fn engine_runs_the_papers_qa_then_sub_context_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    tiny_qa_model(dir.path(), true);
    let store = ModelStore::locate().unwrap();
    let emb = SentenceEmbedder::load(&store).unwrap();
    let mut e = ChatEngine::from_parts(emb, Some(QaModel::load(dir.path()).unwrap())).unwrap();
    let a = fixture("match.json");
    let q = "How sure are you about the decision?";
    // Uniform QA: far below the 0.5 threshold on the whole context, so the sub-context is
    // asked; its answer is still below the 0.1 floor, so the retrieval answer is kept.
    let r = e.ask(&a, q).unwrap();
    assert_eq!(r.path, AnswerPath::Retrieval);
    e.qa_settings.floor = 0.0;
    let sub = e.ask(&a, q).unwrap();
    assert_eq!(sub.path, AnswerPath::SubContext);
    assert_eq!(sub.sources.len(), 1);
    assert!(
        Context::build(&a)
            .facts
            .iter()
            .any(|f| f.text == sub.sources[0] && f.text.contains(&sub.text))
    );
    e.qa_settings.threshold = 0.0;
    assert_eq!(e.ask(&a, q).unwrap().path, AnswerPath::Qa);
    // Unanswerable questions are refused before any QA model sees them.
    assert_eq!(
        e.ask(&a, "How old is the man?").unwrap().path,
        AnswerPath::Refusal
    );
}

fn print_report(title: &str, r: &EvalReport) {
    println!("{title}\n{}", r.table());
    println!(
        "latency: median {:.1} ms, p95 {:.1} ms",
        r.latency_percentile(50.0),
        r.latency_percentile(95.0)
    );
    for f in &r.failures {
        println!(
            "WRONG [{}] {} {:?} -> {:?} (intent {}; {})",
            f.qtype, f.analysis, f.question, f.answer.text, f.answer.intent, f.reason
        );
    }
}

/// The target: at least 95 % correct per question type and for the
/// follow-ups; every unanswerable and identity question refused. Returns the misses.
fn below_target(r: &EvalReport) -> Vec<String> {
    below(r, 0.95)
}

/// The types (and follow-ups) below `need`, or below 100 % for the identity and
/// unanswerable questions, which must all be refused.
fn below(r: &EvalReport, need: f64) -> Vec<String> {
    TYPES
        .iter()
        .chain(&[FOLLOW_UPS])
        .filter_map(|t| {
            let rate = r.rate(t)?;
            let need = if matches!(*t, "unanswerable" | "identity") {
                1.0
            } else {
                need
            };
            (rate < need).then(|| format!("{t}: {:.1}% < {:.0}%", rate * 100.0, need * 100.0))
        })
        .collect()
}

/// The analyses made by the real CLI from data/ images (see tests/chat_fixtures/real/README).
fn real_analyses() -> Vec<(String, Analysis)> {
    [
        "plain_match",
        "plain_non_match",
        "match_mery",
        "non_match_xmap",
        "unfit_face",
    ]
    .iter()
    .map(|n| (n.to_string(), fixture(&format!("real/{n}.json"))))
    .collect()
}

fn run_set(file: &str) -> EvalReport {
    let set = QuestionSet::read(&root().join("tests/chat_sets").join(file)).unwrap();
    let mut e = engine();
    let r = evaluate(&mut e, &real_analyses(), &set).unwrap();
    print_report(file, &r);
    r
}

#[test]
fn the_target_check_can_fail() {
    let mut r = EvalReport::default();
    r.per_type.insert("decision".into(), (19, 20));
    r.per_type.insert("unanswerable".into(), (10, 10));
    r.per_type.insert(FOLLOW_UPS.into(), (20, 20));
    assert!(below_target(&r).is_empty());
    r.per_type.insert("decision".into(), (18, 20));
    r.per_type.insert("unanswerable".into(), (9, 10));
    r.per_type.insert(FOLLOW_UPS.into(), (18, 20));
    assert_eq!(below_target(&r).len(), 3);
}

/// The strict check rejects an answer of the wrong intent even when it
/// happens to contain the expected facts, and a right answer passes.
#[test]
fn the_check_tells_answers_apart() {
    let a = fixture("real/match_mery.json");
    let mut e = engine();
    e.start_over();
    let reasoning = e.ask(&a, "Why did it decide that?").unwrap();
    let expect = |t: &str| Expect {
        qtype: t.into(),
        ..Expect::default()
    };
    assert_eq!(check(&a, &expect("reasoning"), &reasoning), Ok(()));
    // The reasoning sentence states the decision word, but it is not the decision's answer.
    assert!(reasoning.text.contains("match"));
    assert!(check(&a, &expect("decision"), &reasoning).is_err());
    let mut forged = reasoning.clone();
    forged.intent = "decision".into();
    assert!(
        check(&a, &expect("decision"), &forged).is_err(),
        "states the threshold"
    );
    let mut invented = reasoning;
    invented.text += " The score is 0.9999.";
    assert!(check(&a, &expect("reasoning"), &invented).is_err());
}

/// The tuning sets (looked at while building the engine). The target holds on
/// tuning.json. sealed-2026-12, sealed-2026-12b, sealed-2026-12c and
/// sealed-2026-12d were each written as a never-tuned set, reported once
/// (README) and tuned on since;
/// they stay near the target: at most one question of a type missed (each is
/// asked of 5 analyses: ≥ 85 % with 8–10 questions a type, ≥ 95 % with 20),
/// every identity and unanswerable question refused, and no answer states a
/// number the analysis lacks. (The never-tuned set is run by `facexplain
/// chat-eval`, once, on the final engine.)
#[test]
fn chat_eval_on_the_tuning_sets() {
    let r = run_set("tuning.json");
    let misses = below_target(&r);
    assert!(
        misses.is_empty(),
        "tuning.json below target: {}",
        misses.join("; ")
    );
    for (set, need) in [
        ("sealed_2026_12.json", 0.85),
        ("sealed_2026_12b.json", 0.85),
        ("sealed_2026_12c.json", 0.95),
        ("sealed_2026_12d.json", 0.95),
    ] {
        let r = run_set(set);
        let misses = below(&r, need);
        assert!(misses.is_empty(), "tuning set {set}: {}", misses.join("; "));
        assert!(
            !r.failures
                .iter()
                .any(|f| f.reason.contains("not in the analysis")),
            "{set}: an answer invented a number"
        );
    }
}

/// Every question set of the test suite (tuning, former never-tuned and the
/// never-tuned set), by name.
const SETS: [&str; 12] = [
    "chat_sets/tuning.json",
    "chat_sets/sealed_2026_12.json",
    "chat_sets/sealed_2026_12b.json",
    "chat_sets/sealed_2026_12c.json",
    "chat_sets/sealed_2026_12d.json",
    "chat_sets/sealed_2026_12e.json",
    "chat_questions.json",
    "chat_questions_blind.json",
    "chat_questions_fresh.json",
    "chat_questions_heldout.json",
    "chat_questions_sealed.json",
    "chat_questions_unseen.json",
];

/// No example phrasing is a copy of a set's question: none lies within MiniLM
/// cosine 0.93 of any question or follow-up turn of any set, except the
/// examples that predate this check (tests/chat_sets/near_copies_allowed.txt).
#[test]
fn no_example_phrasing_copies_a_set_question() {
    let file = facexplain::chat::intents::IntentFile::builtin().unwrap();
    let allowed =
        std::fs::read_to_string(root().join("tests/chat_sets/near_copies_allowed.txt")).unwrap();
    let allowed: std::collections::BTreeSet<&str> =
        allowed.lines().filter(|l| !l.starts_with('#')).collect();
    let mut questions = std::collections::BTreeSet::new();
    for set in SETS {
        let s = QuestionSet::read(&root().join("tests").join(set)).unwrap();
        questions.extend(
            s.types
                .values()
                .flatten()
                .map(|q| q.expect("").0.to_string()),
        );
        questions.extend(s.follow_ups.iter().flat_map(|f| f.turns.clone()));
    }
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    let examples: Vec<&str> = file
        .intents
        .iter()
        .flat_map(|i| i.examples.iter().map(String::as_str))
        .collect();
    let e = engine();
    let q = e.embedder().embed(&questions).unwrap();
    let x = facexplain::chat::cache::ExampleCache::new(&file.sha256, e.embedder().sha256())
        .embed(e.embedder(), &examples)
        .unwrap();
    let copies: Vec<String> = examples
        .iter()
        .zip(&x)
        .filter(|(ex, _)| !allowed.contains(**ex))
        .filter_map(|(ex, v)| {
            let (best, i) = q
                .iter()
                .enumerate()
                .map(|(i, qv)| (dot(v, qv), i))
                .fold((f32::MIN, 0), |a, b| if b.0 > a.0 { b } else { a });
            (best >= 0.93).then(|| format!("{ex:?} ~ {:?} ({best:.3})", questions[i]))
        })
        .collect();
    assert!(copies.is_empty(), "near copies: {}", copies.join("; "));
}

/// The examples' embeddings are cached on disk: a second load reads them
/// (same answers), and a corrupt cache file is ignored with a warning,
/// embedded again and rewritten.
#[test]
fn example_embeddings_are_cached_and_a_corrupt_cache_is_ignored() {
    let cache = tempfile::tempdir().unwrap();
    let analysis = root().join("tests/chat_fixtures/real/plain_match.json");
    let ask = || {
        let out = bin()
            .env("FACEXPLAIN_CHAT_CACHE", cache.path())
            .args(["ask", "--json", "--analysis"])
            .arg(&analysis)
            .arg("How sure is the system?")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let files = || -> Vec<PathBuf> {
        std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    let (first, _) = ask();
    assert_eq!(first["intent"], "confidence", "{first}");
    let written = files();
    assert_eq!(written.len(), 1, "{written:?}");
    let bytes = std::fs::read(&written[0]).unwrap();
    assert!(bytes.starts_with(b"facexplain-chat-embeddings/1 "));
    let (second, err) = ask();
    assert_eq!(second, first);
    assert!(!err.contains("corrupt"), "{err}");
    std::fs::write(&written[0], &bytes[..bytes.len() / 2]).unwrap();
    let (third, err) = ask();
    assert_eq!(third, first);
    assert!(
        err.contains("corrupt") && err.contains(&*written[0].to_string_lossy()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&written[0]).unwrap(),
        bytes,
        "rewritten whole"
    );
}

/// Follow-ups resolve against the last turn; "start over" forgets it; a new analysis starts a new conversation.
#[test]
fn a_conversation_with_follow_ups() {
    let a = fixture("real/match_mery.json");
    let t = a.explainability_table.clone().unwrap();
    let rank = |r: &str| t.rows.iter().position(|x| x.region == r).unwrap() + 1;
    let mut e = engine();
    e.start_over();
    let first = e.ask(&a, "Which region mattered most?").unwrap();
    assert_eq!(first.intent, "most_important");
    let eye = e.ask(&a, "and the right eye?").unwrap();
    assert_eq!(eye.intent, "region", "{}", eye.text);
    assert!(
        eye.text.starts_with(&format!(
            "The right eye is ranked {} of 9",
            rank("right eye")
        )),
        "{}",
        eye.text
    );
    let other = e.ask(&a, "and the other eye?").unwrap();
    assert!(
        other.text.starts_with("The left eye is ranked"),
        "{}",
        other.text
    );
    e.ask(&a, "Is it a match?").unwrap();
    let why = e.ask(&a, "why?").unwrap();
    assert_eq!(why.intent, "reasoning", "{}", why.text);
    assert!(why.text.contains(&fmt_similarity(a.similarity)));
    e.ask(&a, "What's the similarity?").unwrap();
    let high = e.ask(&a, "is that high?").unwrap();
    assert_eq!(high.intent, "reasoning", "{}", high.text);
    // "can I trust them?" goes where the last question's data file entry sends it.
    e.ask(&a, "What do the heatmaps show?").unwrap();
    let trust = e.ask(&a, "can I trust them?").unwrap();
    assert_eq!(trust.intent, "faithfulness", "{}", trust.text);
    e.ask(&a, "Is it a match?").unwrap();
    let trust = e.ask(&a, "is that reliable?").unwrap();
    assert_eq!(trust.intent, "confidence", "{}", trust.text);
    e.ask(&a, "Which file is face A?").unwrap();
    let b = e.ask(&a, "what about face B?").unwrap();
    assert_eq!(b.intent, "images", "{}", b.text);
    assert!(b.text.contains(&a.images[1].path) && !b.text.contains(&a.images[0].path));
    assert!(e.in_conversation());
    let reset = e.ask(&a, "start over").unwrap();
    assert_eq!(reset.intent, "start_over");
    assert!(!e.in_conversation());
    // With nothing to follow, "why?" is read on its own: why this decision.
    let alone = e.ask(&a, "why?").unwrap();
    assert_eq!(alone.intent, "reasoning", "{}", alone.text);
    // Another analysis: the conversation about the first one is gone.
    e.ask(&a, "Which region mattered most?").unwrap();
    let other = fixture("real/plain_non_match.json");
    e.context(&other);
    assert!(!e.in_conversation());
    let lone = e.ask(&other, "and the right eye?").unwrap();
    assert_ne!(lone.intent, "most_important", "{}", lone.text);
}

/// Identity questions are refused with the reason; data the analysis lacks is
/// refused by the intent that would answer it; answers name their source.
#[test]
fn refusals_say_why() {
    let mut e = engine();
    let plain = fixture("real/plain_match.json");
    e.start_over();
    let who = e.ask(&plain, "Who is this man?").unwrap();
    assert_eq!(
        (who.path, who.intent.as_str()),
        (AnswerPath::Refusal, "identity")
    );
    assert!(
        who.text.contains("does not identify people"),
        "{}",
        who.text
    );
    let most = e.ask(&plain, "Which region mattered most?").unwrap();
    assert_eq!(
        (most.path, most.intent.as_str()),
        (AnswerPath::Refusal, "most_important")
    );
    assert!(most.text.contains("no explainability table"));
    let lr = e.ask(&plain, "What is the likelihood ratio?").unwrap();
    assert_eq!(
        (lr.path, lr.intent.as_str()),
        (AnswerPath::Refusal, "evidence_strength")
    );
    // The quality record answers for the face asked about.
    let unfit = fixture("real/unfit_face.json");
    e.start_over();
    let q = e.ask(&unfit, "Is face A fit for comparison?").unwrap();
    assert_eq!(
        (q.path, q.intent.as_str()),
        (AnswerPath::Retrieval, "quality"),
        "{}",
        q.text
    );
    assert!(
        q.text.starts_with("Face A is unfit") && q.text.contains("not a human face"),
        "{}",
        q.text
    );
    let b = e.ask(&unfit, "and face B?").unwrap();
    assert!(b.text.starts_with("Face B is fit"), "{}", b.text);
    e.start_over();
    let d = e.ask(&plain, "Is it a match?").unwrap();
    assert_eq!(d.path, AnswerPath::Retrieval);
    assert!(
        d.text.contains("is match") && !d.text.contains("0.4275"),
        "{}",
        d.text
    );
    assert_eq!(d.sources.len(), 1);
    assert!(d.sources[0].contains("decision"));
    assert!(d.confidence > 0.0 && d.confidence <= 1.0);
    // Same question, same answer.
    e.start_over();
    assert_eq!(e.ask(&plain, "Is it a match?").unwrap(), d);
    assert!(e.ask(&plain, "   ").is_err());
}

/// Questions on how alike regions are go to the X-Map table when there is one.
#[test]
fn alike_questions_go_to_the_xmap_table() {
    let a = fixture("real/non_match_xmap.json");
    let x = a.xmap_table.clone().unwrap();
    let mut e = engine();
    for q in facexplain::chat::XMAP_QUESTIONS {
        e.start_over();
        let ans = e.ask(&a, q).unwrap();
        assert!(
            ans.text.starts_with("In the X-Maps the region"),
            "{q}: {}",
            ans.text
        );
    }
    e.start_over();
    let most = e
        .ask(&a, "Which region makes the faces look most alike?")
        .unwrap();
    assert!(most.text.contains(&x.rows[0].region), "{}", most.text);
    let plain = fixture("real/match_mery.json");
    e.start_over();
    let none = e
        .ask(&plain, "Which region makes the faces look most alike?")
        .unwrap();
    assert_eq!(none.path, AnswerPath::Refusal, "{}", none.text);
    assert_eq!(
        facexplain::chat::suggestions(false),
        facexplain::chat::SUGGESTED_QUESTIONS.to_vec()
    );
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_facexplain"))
}

#[test]
fn ask_cli_answers_in_json_and_rejects_bad_input() {
    let fx = root().join("tests/chat_fixtures/real");
    let out = bin()
        .args(["ask", "--analysis"])
        .arg(fx.join("plain_non_match.json"))
        .args(["What is the decision?", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["path"], "retrieval");
    assert_eq!(v["intent"], "decision");
    assert!(v["answer"].as_str().unwrap().contains("is non-match"));
    assert!(
        v["confidence"].as_f64().unwrap() > 0.0 && !v["sources"].as_array().unwrap().is_empty()
    );
    let missing = bin()
        .args([
            "ask",
            "--analysis",
            "/nonexistent/a.json",
            "What is the decision?",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/a.json"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": \"something else\"}").unwrap();
    let out = bin()
        .args(["ask", "--analysis"])
        .arg(&bad)
        .arg("What is the decision?")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let empty = bin()
        .args(["ask", "--analysis"])
        .arg(fx.join("plain_match.json"))
        .arg("  ")
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(2));
    // A broken intents file is named, with exit code 2.
    let intents = dir.path().join("intents.json");
    std::fs::write(&intents, "{\"schema\": 1}").unwrap();
    let out = bin()
        .env("FACEXPLAIN_CHAT_INTENTS", &intents)
        .args(["ask", "--analysis"])
        .arg(fx.join("plain_match.json"))
        .arg("What is the decision?")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("intents.json"));
}

#[test]
fn ask_cli_on_a_real_comparison() {
    let data = root().join("data/face_recognition");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("analysis.json");
    let out = bin()
        .arg("compare")
        .arg(data.join("obama.jpg"))
        .arg(data.join("obama2.jpg"))
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = Analysis::read(&json).unwrap();
    let ask = |q: &str| {
        let out = bin()
            .args(["ask", "--json", "--analysis"])
            .arg(&json)
            .arg(q)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let d = ask("Are these the same person?");
    assert!(
        d["answer"]
            .as_str()
            .unwrap()
            .contains(&format!("is {}:", a.decision)),
        "{d}"
    );
    let s = ask("What is the similarity score?");
    assert!(
        s["answer"]
            .as_str()
            .unwrap()
            .contains(&fmt_similarity(a.similarity)),
        "{s}"
    );
    assert_eq!(ask("How old is he?")["path"], "refusal");
}
