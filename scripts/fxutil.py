#!/usr/bin/env python3
"""Small stdlib-only helpers for the set-up scripts (any Python >= 3.8).

  fxutil.py check FILE SHA256            exit 0 if FILE exists with that digest, else 1 (quiet)
  fxutil.py verify FILE SHA256 [LABEL]   like check, but a mismatch or a missing file is an
                                         error naming the file, expected and actual digest
  fxutil.py sha256 FILE...               print "digest  path" lines
  fxutil.py verify-sums SUMS DIR         every line of a sha256sum-format file, relative to DIR
  fxutil.py write-sums SUMS DIR GLOB...  write a sha256sum-format file for DIR's files matching GLOBs
  fxutil.py manifest MANIFEST [DIR...]   one tab-separated line per entry:
                                         id, file, sha256, source.path, source.sha256, then
                                         for each DIR "ok" if DIR/file has the digest, else "-"
  fxutil.py extract ARCHIVE DEST PAT...  extract the members of a zip/wheel/tar(.gz) matching the
                                         fnmatch patterns into DEST (cached: skipped when DEST
                                         already holds this archive's extraction); prints DEST

Digests are cached by (path, size, mtime, inode, ctime) in
$FACEXPLAIN_CACHE/stamps/sha256-cache.json so that a second set-up run does not
re-read hundreds of megabytes; FACEXPLAIN_VERIFY_FULL=1 ignores the cache.
"""
import fnmatch
import glob
import hashlib
import json
import os
import shutil
import sys
import tarfile
import zipfile

CACHE_DIR = os.environ.get("FACEXPLAIN_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "facexplain"
)
STAT_CACHE = os.path.join(CACHE_DIR, "stamps", "sha256-cache.json")
FULL = os.environ.get("FACEXPLAIN_VERIFY_FULL") == "1"

_cache = None
_dirty = False


def _load():
    global _cache
    if _cache is None:
        try:
            with open(STAT_CACHE) as f:
                _cache = json.load(f)
        except (OSError, ValueError):
            _cache = {}
    return _cache


def _save():
    if not _dirty:
        return
    os.makedirs(os.path.dirname(STAT_CACHE), exist_ok=True)
    tmp = STAT_CACHE + ".%d.tmp" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(_cache, f, indent=0, sort_keys=True)
    os.replace(tmp, STAT_CACHE)


def sha256(path):
    """Digest of path, or None if it does not exist."""
    global _dirty
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    key = os.path.realpath(path)
    sig = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
    cache = _load()
    hit = cache.get(key)
    if not FULL and hit and hit[:4] == sig:
        return hit[4]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    cache[key] = sig + [digest]
    _dirty = True
    return digest


def verify(path, want, label=None):
    got = sha256(path)
    if got == want:
        return True
    name = f"{label} ({path})" if label else path
    if got is None:
        print(f"error: {name} is missing (expected sha256 {want})", file=sys.stderr)
    else:
        print(f"error: sha256 mismatch for {name}\n  expected {want}\n  actual   {got}", file=sys.stderr)
    return False


def read_sums(sums):
    out = []
    with open(sums) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            digest, name = line.split(None, 1)
            out.append((digest, name.lstrip("*")))
    return out


def member_files(archive):
    """(name, opener) pairs for the regular files of a zip or tar archive."""
    if zipfile.is_zipfile(archive):
        z = zipfile.ZipFile(archive)
        return [(i.filename, (lambda i=i: z.open(i))) for i in z.infolist() if not i.is_dir()]
    t = tarfile.open(archive)
    return [(m.name, (lambda m=m: t.extractfile(m))) for m in t.getmembers() if m.isfile()]


def extract(archive, dest, patterns):
    st = os.stat(archive)
    stamp_path = os.path.join(dest, ".fx-extract.json")
    want = {"archive": os.path.basename(archive), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "patterns": patterns}
    try:
        with open(stamp_path) as f:
            stamp = json.load(f)
        if {k: stamp.get(k) for k in want} == want and all(
            os.path.isfile(os.path.join(dest, n)) for n in stamp["files"]
        ):
            return dest
    except (OSError, ValueError, KeyError):
        pass
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    files = []
    hit = {p: 0 for p in patterns}
    for name, opener in member_files(archive):
        matched = [p for p in patterns if fnmatch.fnmatchcase(name, p)]
        if not matched:
            continue
        for p in matched:
            hit[p] += 1
        norm = os.path.normpath(name)
        if norm.startswith(("/", "..")) or os.path.isabs(norm):
            sys.exit(f"fxutil extract: unsafe member name {name!r} in {archive}")
        out = os.path.join(dest, norm)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with opener() as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        files.append(norm)
    missing = [p for p, n in hit.items() if n == 0]
    if missing:
        sys.exit(f"fxutil extract: nothing in {archive} matches {missing}")
    want["files"] = sorted(files)
    with open(stamp_path, "w") as f:
        json.dump(want, f, indent=1)
    return dest


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    rc = 0
    try:
        if cmd == "check":
            rc = 0 if sha256(args[0]) == args[1] else 1
        elif cmd == "verify":
            rc = 0 if verify(args[0], args[1], args[2] if len(args) > 2 else None) else 1
        elif cmd == "sha256":
            for p in args:
                print(f"{sha256(p)}  {p}")
        elif cmd == "verify-sums":
            sums, base = args
            entries = read_sums(sums)
            bad = [n for d, n in entries if not verify(os.path.join(base, n), d, n)]
            if bad:
                print(f"error: {len(bad)} of {len(entries)} files in {base} do not match {sums}",
                      file=sys.stderr)
                rc = 1
            else:
                print(len(entries))
        elif cmd == "write-sums":
            sums, base, pats = args[0], args[1], args[2:]
            names = sorted({os.path.relpath(p, base) for pat in pats
                            for p in glob.glob(os.path.join(base, pat), recursive=True) if os.path.isfile(p)})
            with open(sums, "w") as f:
                for n in names:
                    f.write(f"{sha256(os.path.join(base, n))}  {n}\n")
            print(f"{len(names)} files -> {sums}")
        elif cmd == "manifest":
            with open(args[0]) as f:
                m = json.load(f)
            if m.get("schema") != "facexplain.models/1":
                sys.exit(f"fxutil manifest: {args[0]}: unknown schema {m.get('schema')!r}")
            for e in m["models"]:
                status = ["ok" if sha256(os.path.join(d, e["file"])) == e["sha256"] else "-" for d in args[1:]]
                print("\t".join([e["id"], e["file"], e["sha256"], e["source"]["path"], e["source"]["sha256"], *status]))
        elif cmd == "extract":
            print(extract(args[0], args[1], args[2:]))
        else:
            sys.exit(f"fxutil: unknown command {cmd!r}\n{__doc__}")
    finally:
        _save()
    sys.exit(rc)


if __name__ == "__main__":
    main()
