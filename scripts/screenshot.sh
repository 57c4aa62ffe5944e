#!/usr/bin/env bash
# Start the app under Xvfb on the built-in sample pair, wait until its
# explanation is complete, and save the screen as docs/screenshot.png.
# Needs: Xvfb, ImageMagick's `import`, the models and data from scripts/setup.sh.
# FRAME_DRIVE=1: while explaining, the app moves the pointer over the faces and
# switches maps (`--drive`), so the frame statistics cover interactive frames
# (the screenshot then shows the last map it switched to).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshot.png}"
display="${DISPLAY_NUM:-:99}"
timeout_s="${TIMEOUT_S:-300}"

# The same build folder as scripts/run.sh and scripts/test.sh.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${FACEXPLAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facexplain}/target}"
cargo build --quiet --bin facexplain
bin="$CARGO_TARGET_DIR/debug/facexplain"
work="$(mktemp -d /tmp/facexplain-shot.XXXXXX)"
export XDG_RUNTIME_DIR="$work/runtime" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb=$!
app=""
cleanup() {
    [ -n "$app" ] && kill "$app" 2>/dev/null || true
    kill "$xvfb" 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

# A fresh settings folder: the default layout and parameters.
DISPLAY="$display" WGPU_BACKEND="${WGPU_BACKEND:-vulkan}" \
    "$bin" --frame-stats ${FRAME_DRIVE:+--drive} >"$work/app.log" 2>&1 &
app=$!

start=$SECONDS
until grep -q "explanation finished" "$work/app.log"; do
    if ! kill -0 "$app" 2>/dev/null; then
        echo "the app exited early:" >&2
        cat "$work/app.log" >&2
        exit 1
    fi
    if (( SECONDS - start > timeout_s )); then
        echo "no finished explanation after ${timeout_s} s:" >&2
        cat "$work/app.log" >&2
        exit 1
    fi
    sleep 1
done
sleep 2
mkdir -p "$(dirname "$out")"
DISPLAY="$display" import -window root "$out"
grep "frame-stats" "$work/app.log" || true
echo "saved $out"
