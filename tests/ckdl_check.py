#!/usr/bin/env python3
"""Checks KDL files with ckdl, an independent KDL v2 parser (C, via Python).

Usage: python3 tests/ckdl_check.py PATH...

Each PATH is a .kdl file or a directory searched recursively for .kdl files.
Every file must parse as KDL v2. Prints one line per file that fails and
exits 1 if any does; exits 2 on usage problems (no files, unreadable path)
and 3 when the ckdl package is missing (`pip install ckdl`).

tests/fmt.rs runs this on every formatted example file and book block.
"""

import os
import sys


def collect(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames.sort()
                files.extend(
                    os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".kdl")
                )
        elif os.path.isfile(path):
            files.append(path)
        else:
            print(f"ckdl_check: no such file or directory: {path}", file=sys.stderr)
            sys.exit(2)
    return files


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        import ckdl
    except ImportError as e:
        print(f"ckdl_check: cannot import ckdl ({e}); install it with `pip install ckdl`", file=sys.stderr)
        return 3
    files = collect(argv[1:])
    if not files:
        print(f"ckdl_check: no .kdl file in {' '.join(argv[1:])}", file=sys.stderr)
        return 2
    failures = 0
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            print(f"FAIL {path}: cannot read: {e}")
            failures += 1
            continue
        try:
            ckdl.parse(text, version=2)
        except Exception as e:  # ckdl.ParseError, or anything else it raises
            print(f"FAIL {path}: {type(e).__name__}: {e}")
            failures += 1
    if failures:
        print(f"ckdl_check: {failures} of {len(files)} file(s) are not valid KDL v2 for ckdl")
        return 1
    print(f"ckdl_check: {len(files)} file(s) parse as KDL v2")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
