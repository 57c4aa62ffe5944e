#!/usr/bin/env python3
"""Download one file of a PyPI release into a cache folder, verified by SHA-256.

Usage: pypi_fetch.py PROJECT FILENAME DEST_DIR
Uses the registry's simple JSON index (PEP 691) and the digest it publishes;
a file already in DEST_DIR with the right digest is not fetched again.
"""
import hashlib, json, os, sys, urllib.request

INDEX = os.environ.get("FACEXPLAIN_PYPI_INDEX", "https://pypi.org/simple")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    project, filename, dest = sys.argv[1:4]
    os.makedirs(dest, exist_ok=True)
    out = os.path.join(dest, filename)
    req = urllib.request.Request(
        f"{INDEX}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        files = json.load(r)["files"]
    match = [f for f in files if f["filename"] == filename]
    if not match:
        sys.exit(f"pypi_fetch: {filename} is not a file of {project} on the index")
    want = match[0]["hashes"]["sha256"]
    if os.path.exists(out) and sha256(out) == want:
        print(out)
        return
    tmp = out + ".part"
    with urllib.request.urlopen(match[0]["url"], timeout=600) as r, open(tmp, "wb") as f:
        while chunk := r.read(1 << 20):
            f.write(chunk)
    got = sha256(tmp)
    if got != want:
        os.remove(tmp)
        sys.exit(f"pypi_fetch: {filename}: sha256 {got} != index {want}")
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
