#!/usr/bin/env bash
# Run every test of facexplain. Does all set-up first (Debian packages, ONNX
# Runtime, models, test images); idempotent, so a second run starts at once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/dev-env.sh
# Image snapshot tests render with Mesa's software Vulkan (lavapipe); no display is needed.
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
cargo test --no-fail-fast "$@"
