#!/usr/bin/env bash
# The long attack run of issue 20: hostile analysis JSON, calibration files,
# manifests, pairs lists and image bytes fed to the readers and to `ask`,
# `report`, `compare` (tests/attack.rs, test `fuzz_for_a_while`) for MINUTES
# minutes; every failing input and its failure are written to OUTDIR.
#
#   scripts/fuzz.sh MINUTES OUTDIR      e.g. scripts/fuzz.sh 10 /tmp/fuzz-out
#
# Prints cases run and failures per target; exits 1 if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:?usage: scripts/fuzz.sh MINUTES OUTDIR}"
out="${2:?usage: scripts/fuzz.sh MINUTES OUTDIR}"
[[ "$minutes" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: MINUTES must be a whole number, got '$minutes'" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${FACEXPLAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facexplain}/target}"
# The test profile: dependencies (decoders, serde_json, ONNX Runtime calls) are
# optimised there already, and it shares the build of scripts/test.sh.
cargo build --quiet --test attack --bin facexplain
FUZZ_SECONDS=$((minutes * 60)) FUZZ_OUT="$out" \
    cargo test --quiet --test attack -- --ignored --exact fuzz_for_a_while --nocapture
