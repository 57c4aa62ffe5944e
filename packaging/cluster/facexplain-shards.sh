#!/usr/bin/env bash
# Embed a large data set in shards on a cluster, then merge the shards.
#
#   facexplain-shards.sh embed            one shard: its index from the job
#                                         array ($SLURM_ARRAY_TASK_ID under
#                                         Slurm, $JOB_COMPLETION_INDEX in a
#                                         Kubernetes Indexed Job, or
#                                         $SHARD_INDEX), $SHARDS shards in all
#   facexplain-shards.sh local            every shard at once as local
#                                         processes, each given its index the
#                                         way a job array gives it (for a test
#                                         or a single big machine)
#   facexplain-shards.sh merge CMD ARGS   facexplain CMD (explore, eval or
#                                         calibrate) over the data set with
#                                         every shard's file: no model runs
#
# Environment:
#   DATASET     the data set folder (the same path on every machine)
#   SHARDS      how many shards (default: $SLURM_ARRAY_TASK_COUNT)
#   OUT         the folder shared by every task for the shard files
#               (shard-K-of-N.fxemb)
#   FACEXPLAIN  the facexplain binary (default: facexplain on the PATH)
#   EMBED_ARGS  more options for `facexplain embed` (e.g. "--pairs FILE"),
#               split on spaces
#   LOCAL_INDEX_VAR  which variable `local` sets: SLURM_ARRAY_TASK_ID
#               (default) or JOB_COMPLETION_INDEX
#   EMBED_MISSING=1  merge even when shard files are missing: their images
#               are embedded by the merge step (--embed-missing)
set -euo pipefail

die() {
    echo "facexplain-shards: $*" >&2
    exit 2
}

FACEXPLAIN=${FACEXPLAIN:-facexplain}
SHARDS=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:-}}
[[ -n ${DATASET:-} ]] || die "set DATASET to the data set folder"
[[ -n ${OUT:-} ]] || die "set OUT to the folder for the shard files"
[[ $SHARDS =~ ^[1-9][0-9]*$ ]] || die "set SHARDS to the number of shards (got '${SHARDS}')"

file_of() { echo "$OUT/shard-$1-of-$SHARDS.fxemb"; }

embed() {
    local k=${SHARD_INDEX:-${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}}
    [[ $k =~ ^[0-9]+$ ]] || die "no shard index: set SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or SHARD_INDEX"
    ((k < SHARDS)) || die "shard index $k is not below SHARDS=$SHARDS (a Slurm array runs --array=0-$((SHARDS - 1)))"
    mkdir -p "$OUT"
    # shellcheck disable=SC2086 # EMBED_ARGS is a list of options
    exec "$FACEXPLAIN" embed --dataset "$DATASET" --shard "$k/$SHARDS" --out "$(file_of "$k")" ${EMBED_ARGS:-}
}

local_all() {
    local var=${LOCAL_INDEX_VAR:-SLURM_ARRAY_TASK_ID} k failed=()
    [[ $var == SLURM_ARRAY_TASK_ID || $var == JOB_COMPLETION_INDEX ]] ||
        die "LOCAL_INDEX_VAR must be SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX"
    local pids=()
    for ((k = 0; k < SHARDS; k++)); do
        env -u SHARD_INDEX -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX "$var=$k" "$0" embed &
        pids+=($!)
    done
    for ((k = 0; k < SHARDS; k++)); do
        wait "${pids[k]}" || failed+=("$k/$SHARDS")
    done
    ((${#failed[@]} == 0)) || { echo "facexplain-shards: shards failed: ${failed[*]}" >&2; exit 1; }
}

merge() {
    (($# >= 1)) || die "merge needs a command: explore, eval or calibrate, then its options"
    local cmd=$1 k files=() missing=()
    shift
    for ((k = 0; k < SHARDS; k++)); do
        if [[ -f $(file_of "$k") ]]; then
            files+=("$(file_of "$k")")
        else
            missing+=("$k/$SHARDS")
        fi
    done
    local extra=()
    if ((${#missing[@]} > 0)); then
        [[ ${EMBED_MISSING:-0} == 1 ]] ||
            die "no file for shards ${missing[*]} in $OUT: run them again (or EMBED_MISSING=1 to embed their images here)"
        extra=(--embed-missing)
        ((${#files[@]} > 0)) || die "no shard file at all in $OUT"
    fi
    exec "$FACEXPLAIN" "$cmd" --dataset "$DATASET" --embeddings "${files[@]}" "${extra[@]}" "$@"
}

case ${1:-} in
embed) embed ;;
local) local_all ;;
merge) shift && merge "$@" ;;
*) die "usage: facexplain-shards.sh embed | local | merge CMD [ARGS...]" ;;
esac
