#!/usr/bin/env bash
# System packages (Debian 12) for building, running and testing facexplain, and a check
# that a Rust toolchain is there. apt runs only when something is missing.
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(
    # window, GPU/software rendering, screenshots under Xvfb
    xvfb xauth imagemagick libgl1 libgl1-mesa-dri libglx-mesa0 libegl1 libegl-mesa0 libgbm1
    mesa-vulkan-drivers libvulkan1 libx11-xcb1 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0
    libwayland-client0
    # build: rfd's gtk3 file dialog, fonts
    pkg-config libgtk-3-dev fonts-dejavu-core libfontconfig1-dev libfreetype-dev
    # set-up itself
    unzip ca-certificates curl
    # tests/no_network.rs: every socket the binary opens, under strace
    strace
)
# The model set-up needs Python 3.11 with venv (Debian 12's python3 is 3.11) and npm.
py311=$(fx_python311 2>/dev/null) || { py311=""; PKGS+=(python3 python3-venv python3-pip); }
if ! command -v npm >/dev/null; then PKGS+=(npm); fi

missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null | awk '$2 == "ii" { print $1 }' || true)
for p in "${PKGS[@]}"; do
    grep -qx "$p" <<<"$installed" || missing+=("$p")
done

did=""
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fx_die "not root and no sudo: install as root: ${missing[*]}"
        SUDO=(sudo)
    fi
    fx_note "apt-get install ${missing[*]} (log: $FX_LOGS/apt.log)"
    fx_run apt-update "${SUDO[@]}" apt-get update -q
    fx_run apt "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    did=", installed ${#missing[@]}"
fi

# Rust: not installed here (rustup fetches toolchains from outside the registries).
if ! command -v cargo >/dev/null; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        fx_die "cargo is at $HOME/.cargo/bin but not on PATH: run  . \"\$HOME/.cargo/env\"  (or add it to PATH) and re-run"
    fi
    fx_die "no Rust toolchain: cargo is not on PATH. Install Rust >= 1.95 (rustup or your distribution) and re-run"
fi
rust=$(rustc --version 2>/dev/null | awk '{ print $2 }')

[ -n "$py311" ] || py311=$(fx_python311)
fx_done "system: ${#PKGS[@]} Debian packages present${did}; rustc ${rust:-?}; $("$py311" -S -c 'import sys; print("python %d.%d.%d" % sys.version_info[:3])'); npm present"
