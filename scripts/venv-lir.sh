#!/usr/bin/env bash
# The virtualenv with NFI's `lir` (PyPI lir==1.3.1, the newest that installs on Python
# 3.11), hash-locked in scripts/requirements-lir.txt. The likelihood-ratio tests use it to
# cross-check Cllr, Cllr_min, Cllr_cal, PAV and ELUB bounds (scripts/lir_reference.py).
# Idempotent: rebuilt only when the lock file or the interpreter changes.
#
# Regenerate the lock (maintainers): python3.11 scripts/lock_requirements.py \
#     scripts/requirements-lir.txt -- lir==1.3.1
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fx_lock
fx_venv "$FACEXPLAIN_CACHE/venv-lir" "$FX_SCRIPTS/requirements-lir.txt"
fx_done "lir: $("$FACEXPLAIN_CACHE/venv-lir/bin/python" -c 'import importlib.metadata as m; print("lir", m.version("lir"))') in $FACEXPLAIN_CACHE/venv-lir"
