#!/usr/bin/env bash
# Run the facexplain app (opens on the built-in sample pair). Does all set-up
# first; extra arguments go to the binary (e.g. `scripts/run.sh compare A B`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/dev-env.sh
exec cargo run --quiet --bin facexplain -- "$@"
