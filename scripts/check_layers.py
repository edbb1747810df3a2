#!/usr/bin/env python3
"""Checks every #include "..." of the product's code against its layering.

usage: check_layers.py LAYERS_TXT SOURCE_DIR

LAYERS_TXT is written by CMake (top-level CMakeLists.txt, kehu_layer()):
  part TARGET DIR            the part built from DIR's own files
  header kehu/NAME.h TARGET  a public header and the part that owns it
  links TARGET DEP...        the parts TARGET links
A part may include its own headers and those of the parts it links, directly
or through them. A part with public headers keeps the headers in its folder to
itself; a part without (the server's) offers them to the parts that link it.
Exit 0 when every include follows these rules; 1 with one line per breach.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main(layers_txt, root):
    dirs, headers, links = {}, {}, {}
    for line in open(layers_txt, encoding="utf-8"):
        words = line.split()
        if not words:
            continue
        if words[0] == "part":
            dirs[words[1]] = words[2]
        elif words[0] == "header":
            headers[words[1]] = words[2]
        elif words[0] == "links":
            links[words[1]] = words[2:]
    has_public = set(headers.values())
    part_of_dir = {d: t for t, d in dirs.items()}

    def reach(target, seen=None):
        seen = set() if seen is None else seen
        for dep in links.get(target, []):
            if dep not in seen:
                seen.add(dep)
                reach(dep, seen)
        return seen

    allowed = {t: reach(t) | {t} for t in dirs}

    # Every file of a part, and every public header, with the part it belongs to.
    files = {}
    for target, d in dirs.items():
        for name in os.listdir(os.path.join(root, d)):
            if name.endswith((".h", ".cc")):
                files[os.path.join(d, name)] = target
    for h, target in headers.items():
        for base in ("core/include", "sync/include"):
            if os.path.exists(os.path.join(root, base, h)):
                files[os.path.join(base, h)] = target

    breaches = []
    for path, target in sorted(files.items()):
        here = os.path.dirname(path)
        with open(os.path.join(root, path), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                name = m.group(1)
                where = f"{path}:{number}: \"{name}\""
                if name in headers:
                    owner = headers[name]
                elif name.startswith("kehu/"):
                    breaches.append(f"{where}: a public header no part owns (HEADERS in CMake)")
                    continue
                elif os.path.join(here, name) in files:
                    owner = files[os.path.join(here, name)]
                else:
                    found = [p for p in files if p.endswith("/" + name) and
                             os.path.dirname(p) in part_of_dir]
                    if len(found) != 1:
                        breaches.append(f"{where}: found in {len(found)} parts' folders, expected 1")
                        continue
                    owner = files[found[0]]
                    if owner in has_public and owner != target:
                        breaches.append(f"{where}: a private header of {owner} ({dirs[owner]})")
                        continue
                if owner not in allowed[target]:
                    breaches.append(f"{where}: {target} ({dirs[target]}) does not link {owner} ({dirs[owner]})")
    for b in breaches:
        print(b)
    print(f"layering: {len(files)} files of {len(dirs)} parts checked, {len(breaches)} breaches")
    return 1 if breaches else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
