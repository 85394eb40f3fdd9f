"""How GNU tar and Python's tarfile read tar archives, for the differential test.

Usage: python3 other-readers.py DIR COUNT
Reads DIR/0.tar .. DIR/(COUNT-1).tar and prints one JSON object per archive
per line, in order:

  {"python": {...}, "gnu": {...}}

python: {"error": str} when tarfile.open/getmembers raises, else
  {"members": [[name, kind, size], ...], "escapes": [names whose extraction
  target lies outside the destination], "tree": {...} or null}
gnu:    {"status": exit status, "stderr": first lines, "tree": {...}}

A tree maps each path under the destination (relative, '/'-separated) to
["file", size] or ["dir", 0] or ["other", 0]: what extraction put on disk.

Python extracts the way Python 3.11's extractall does by default (no filter,
i.e. fully trusted) -- the behaviour a consumer of an exported archive gets --
but only when every member lands inside a private sandbox and is a regular
file or directory: the listing already says what would escape, and writing
through a link or creating devices on this machine proves nothing more.
GNU tar extracts with its defaults (it strips leading '/', skips '..'
members and defers dangerous symlinks on its own).
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char-device",
    tarfile.BLKTYPE: "block-device",
    tarfile.FIFOTYPE: "fifo",
    tarfile.GNUTYPE_SPARSE: "sparse",
}

# Deep enough that any generated name with up to DEPTH '..' components
# still lands inside the sandbox when Python extracts it.
DEPTH = 12


def walk(root):
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            st = os.lstat(full)
            if os.path.islink(full):
                tree[rel] = ["other", 0]
            elif os.path.isdir(full):
                tree[rel] = ["dir", 0]
            elif os.path.isfile(full):
                tree[rel] = ["file", st.st_size]
            else:
                tree[rel] = ["other", 0]
    return tree


def mode(path):
    # "r:*" would try every compression in turn; only gzip is ever generated.
    with open(path, "rb") as f:
        return "r:gz" if f.read(2) == b"\x1f\x8b" else "r:"


def python_reads(path, scratch):
    try:
        with tarfile.open(path, mode(path)) as tf:
            members = tf.getmembers()
    except Exception as e:  # any failure is "Python cannot read it"
        return {"error": f"{type(e).__name__}: {e}"}
    sandbox = os.path.join(scratch, "py")
    dest = os.path.join(sandbox, *(["d"] * DEPTH), "t")
    listing = []
    escapes = []
    safe = True
    for m in members:
        listing.append([m.name, KINDS.get(m.type, "type:" + m.type.decode("latin1")), m.size])
        # What 3.11's _extract_member opens: os.path.join(dest, name), '/' stripped at the end.
        target = os.path.normpath(os.path.join(dest, m.name))
        if target != dest and not target.startswith(dest + os.sep):
            escapes.append(m.name)
        if not target.startswith(sandbox + os.sep) or not (m.isreg() or m.isdir()):
            safe = False
    tree = None
    if safe:
        os.makedirs(dest)
        try:
            with tarfile.open(path, mode(path)) as tf:
                if hasattr(tarfile, "fully_trusted_filter"):
                    # Spelled out: 3.12+ warns without a filter, 3.14 defaults to "data".
                    tf.extractall(dest, filter="fully_trusted")
                else:
                    tf.extractall(dest)
            tree = walk(dest)
            # Anything written beside dest, inside the sandbox, escaped it.
            for rel in walk(sandbox):
                full = os.path.join(sandbox, rel)
                if not (full == dest or full.startswith(dest + os.sep) or dest.startswith(full + os.sep)):
                    escapes.append("(on disk) " + rel)
        except Exception as e:
            tree = {"(extraction failed)": [f"{type(e).__name__}: {e}", 0]}
    return {"members": listing, "escapes": escapes, "tree": tree}


def gnu_reads(path, scratch):
    dest = os.path.join(scratch, "gnu")
    os.makedirs(dest)
    try:
        p = subprocess.run(
            ["tar", "-xf", path, "-C", dest, "--no-same-owner", "--no-same-permissions"],
            capture_output=True,
            timeout=20,
        )
        status = p.returncode
        stderr = p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        status, stderr = "timeout", ""
    return {"status": status, "stderr": "\n".join(stderr.splitlines()[:4]), "tree": walk(dest)}


def main():
    folder, count = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    for i in range(count):
        path = os.path.join(folder, f"{i}.tar")
        scratch = tempfile.mkdtemp(dir=folder, prefix=f"x{i}-")
        try:
            result = {"python": python_reads(path, scratch), "gnu": gnu_reads(path, scratch)}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
