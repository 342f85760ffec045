#!/usr/bin/env python3
"""Writes the static update manifest that `axonflow-codex update` reads from
AXONFLOW_CODEX_UPDATE_URL (mirrors, air-gapped networks).

    python3 dist/make-manifest.py --version 2.1.0 [--base-url URL] [--merge old.json] ARCHIVE...

Each archive gets a `sha256:` digest computed here; `url` is the file name (resolved against
the manifest's own URL by the updater) unless --base-url is given. --merge keeps the releases
of an existing manifest (a release of the same version is replaced). Output: stdout.
"""
import argparse
import hashlib
import json
import os
import sys


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="the release version, e.g. 2.1.0 (no leading v)")
    parser.add_argument("--base-url", help="prefix for asset URLs; default: relative to the manifest")
    parser.add_argument("--merge", help="an existing manifest whose other releases are kept")
    parser.add_argument("archives", nargs="+")
    args = parser.parse_args()
    version = args.version.lstrip("v")
    releases = []
    if args.merge:
        with open(args.merge) as f:
            old = json.load(f)
        if old.get("schema") != 1:
            sys.exit(f"{args.merge}: unsupported manifest schema {old.get('schema')!r}")
        releases = [r for r in old.get("releases", []) if r.get("version") != version]
    assets = []
    for path in args.archives:
        name = os.path.basename(path)
        url = f"{args.base_url.rstrip('/')}/{name}" if args.base_url else name
        assets.append({"name": name, "url": url, "digest": digest(path)})
    releases.append({"version": version, "assets": assets})
    json.dump({"schema": 1, "releases": releases}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
