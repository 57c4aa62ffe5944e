#!/usr/bin/env bash
# Build a self-contained folder (and .tar.gz) of facexplain for Linux x86_64:
# the release binary, ONNX Runtime beside it, the verified models and the
# licences. The binary finds `models/` and the runtime library beside itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --bin facexplain
target=${CARGO_TARGET_DIR:-target} # where cargo put it
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
out="$target/package/facexplain-$version-linux-x86_64"
rm -rf "$out"
mkdir -p "$out/models"
cp "$target/release/facexplain" "$out/"
cp models/onnxruntime/libonnxruntime.so.* "$out/"
cp -r models/manifest.json models/*.onnx models/minilm "$out/models/"
cp packaging/facexplain.desktop README.md "$out/"
tar -C "$target/package" -czf "$out.tar.gz" "$(basename "$out")"
echo "$out.tar.gz"
