#!/usr/bin/env bash
# Build the installable Debian package facexplain_<version>_<arch>.deb with
# dpkg-deb (issue 15). It holds:
#   /usr/bin/facexplain                        the binary
#   /usr/bin/facexplain-shards                 embed a data set in shards on a cluster
#                                              (packaging/cluster/; the Slurm and
#                                              Kubernetes examples in /usr/share/doc/facexplain/cluster/)
#   /usr/share/facexplain/models/              the model manifest and every file it lists
#                                              (ONNX Runtime in models/onnxruntime/)
#   /usr/share/facexplain/assets/              calibration, chat, quality, report, verbal scale
#   /usr/share/facexplain/data/face_recognition/obama{,2}.jpg   the built-in sample pair
#   /usr/share/applications/facexplain.desktop and the icon
#   /usr/share/doc/facexplain/                 copyright (every model's and ONNX Runtime's
#                                              licence and source), licence texts, README
# The binary finds them through resources::locate (<exe>/../share/facexplain/).
#
# Usage: scripts/package-deb.sh [--binary FILE] [--models DIR] [--data DIR]
#                               [--out DIR] [--compress gzip|xz|zstd|none]
#   --binary   an already built binary (default: cargo build --release)
#   --models   models folder (default: $FACEXPLAIN_MODELS, else models/)
#   --data     data folder holding the sample pair (default: $FACEXPLAIN_DATA, else data/)
#   --out      where the .deb goes (default: $CARGO_TARGET_DIR/package, else target/package)
# Prints the path of the .deb. Every file is checked before anything is built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
binary=""
models=${FACEXPLAIN_MODELS:-$root/models}
data=${FACEXPLAIN_DATA:-$root/data}
out=$target/package
compress=gzip
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --models) models=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --compress) compress=$2; shift 2 ;;
        *) echo "package-deb.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
die() { echo "package-deb.sh: $*" >&2; exit 2; }
command -v dpkg-deb >/dev/null || die "dpkg-deb is not installed (apt-get install dpkg)"
command -v python3 >/dev/null || die "python3 is needed to read the model manifest"
if [ -z "$binary" ]; then
    (cd "$root" && cargo build --release --bin facexplain >&2)
    binary=$target/release/facexplain
fi
[ -x "$binary" ] || die "$binary: no executable binary there"
[ -f "$models/manifest.json" ] || die "$models/manifest.json: no model manifest (run scripts/setup.sh)"
sample=(face_recognition/obama.jpg face_recognition/obama2.jpg)
for s in "${sample[@]}"; do
    [ -f "$data/$s" ] || die "$data/$s: the sample pair is missing (run scripts/setup.sh)"
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/facexplain
share=$pkg/usr/share/facexplain
doc=$pkg/usr/share/doc/facexplain
mkdir -p "$share/models" "$share/assets" "$doc" "$out"

install -Dm755 "$binary" "$pkg/usr/bin/facexplain"
install -Dm755 "$root/packaging/cluster/facexplain-shards.sh" "$pkg/usr/bin/facexplain-shards"
install -d "$doc/cluster"
install -m644 "$root"/packaging/cluster/*.sbatch "$root"/packaging/cluster/*.yaml "$doc/cluster/"

# The models: the manifest and each file it lists, checked against its SHA-256.
python3 - "$models" "$share/models" "$doc/copyright" "$root/packaging/licences" <<'PY'
import hashlib, json, os, shutil, sys
src, dst, copyright_path, licences = sys.argv[1:5]
manifest = json.load(open(os.path.join(src, "manifest.json")))
shutil.copy2(os.path.join(src, "manifest.json"), dst)
lines = [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: facexplain",
    "",
    "Files: usr/bin/facexplain usr/bin/facexplain-shards usr/share/facexplain/assets/*",
    "Copyright: 2026 the facexplain authors",
    "License: MIT or Apache-2.0",
    " See /usr/share/doc/facexplain/licences/facexplain-MIT.txt and",
    " /usr/share/doc/facexplain/licences/Apache-2.0.txt.",
    "",
]
for m in manifest["models"]:
    f = m["file"]
    path = os.path.join(src, f)
    if not os.path.isfile(path):
        sys.exit(f"package-deb.sh: {path}: a model the manifest lists is missing")
    h = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if h != m["sha256"]:
        sys.exit(f"package-deb.sh: {path}: SHA-256 {h}, the manifest says {m['sha256']}")
    os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
    shutil.copy2(path, os.path.join(dst, f))
    text = {
        "MIT": "ONNX-Runtime-MIT.txt" if m["id"] == "onnxruntime" else None,
        "Apache-2.0": "Apache-2.0.txt",
    }.get(m["licence"])
    src_pkg = m.get("source", {}).get("package", "")
    lines += [
        f"Files: usr/share/facexplain/models/{f}",
        f"Comment: {m['name']} (id {m['id']}), SHA-256 {m['sha256']}; from {src_pkg}",
        f"License: {m['licence']}",
    ]
    if text:
        lines.append(f" See /usr/share/doc/facexplain/licences/{text}.")
    elif m["licence"] == "MIT":
        lines.append(" The MIT licence, as in /usr/share/doc/facexplain/licences/facexplain-MIT.txt,")
        lines.append(" with the copyright of the model's authors (see its source package).")
    lines.append("")
open(copyright_path, "w").write("\n".join(lines))
PY

cp -r "$root/assets/." "$share/assets/"
for s in "${sample[@]}"; do
    install -Dm644 "$data/$s" "$share/data/$s"
done
install -Dm644 "$root/packaging/facexplain.desktop" "$pkg/usr/share/applications/facexplain.desktop"
install -Dm644 "$root/packaging/facexplain.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/facexplain.svg"
install -d "$doc/licences"
install -m644 "$root"/packaging/licences/*.txt "$doc/licences/"
install -m644 "$root/README.md" "$doc/README.md"

installed=$(du -sk "$pkg/usr" | cut -f1)
mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: facexplain
Version: $version
Architecture: $arch
Maintainer: facexplain authors <facexplain@localhost>
Installed-Size: $installed
Depends: libc6, libgcc-s1, libstdc++6, libgtk-3-0, libxkbcommon0
Recommends: libvulkan1 | libgl1
Section: graphics
Priority: optional
Homepage: https://localhost/facexplain
Description: compare two face photographs and explain the decision, offline
 A desktop app and command-line tool for face comparison: similarity,
 calibrated confidence (C-Score, PIC-Score, likelihood ratio), X-Maps and
 saliency maps, a table of the facial regions that mattered, a chat over the
 result, examiner case files with a hash-chained audit trail and verified
 reproduction, and a printable report. No network connection is ever made.
CONTROL
deb=$out/facexplain_${version}_${arch}.deb
dpkg-deb --root-owner-group "-Z$compress" --build "$pkg" "$deb" >&2
echo "$deb"
