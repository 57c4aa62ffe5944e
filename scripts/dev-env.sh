# shellcheck shell=bash
# The environment scripts/run.sh and scripts/test.sh run cargo in; source it from the
# checkout's root (both cd there first).
# Build outputs live in the cache too, so a fresh clone on a set-up machine (what CI is) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${FACEXPLAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facexplain}/target}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/facexplain-rt.XXXXXX)}"
chmod 700 "$XDG_RUNTIME_DIR"
# The binary finds nothing through the build tree: name the checkout's folders outright.
export FACEXPLAIN_MODELS="${FACEXPLAIN_MODELS:-$PWD/models}"
export FACEXPLAIN_DATA="${FACEXPLAIN_DATA:-$PWD/data}"
export FACEXPLAIN_ASSETS="${FACEXPLAIN_ASSETS:-$PWD/assets}"
