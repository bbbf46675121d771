#!/usr/bin/env python3
"""Generates the `bench/disk.sh` tree: a show-renders tree (<show>/shots/<shot>/renders/) of 200,000 files.

DIR/show{S}/shots/sh{NNN}/renders/{step}/sh{NNN}_{step}_v00{V}.{frame}.exr
2 shows x 100 shots x 2 steps x 5 versions x 100 frames = 200,000 files. Files are sparse
(apparent size 1-8 MiB, almost no blocks) so the tree is cheap to create but reports
studio-sized numbers; 1% of frames are hard links to another version (counted once).
Usage: gen_disk_tree.py DIR  (does nothing when DIR/.complete exists)
"""
import os
import sys

root = sys.argv[1]
marker = os.path.join(root, ".complete")
if os.path.exists(marker):
    sys.exit(0)
n = 0
for show in range(2):
    for shot in range(10, 1010, 10):
        for step in ("comp", "lgt"):
            d = f"{root}/show{show}/shots/sh{shot:03}/renders/{step}"
            os.makedirs(d, exist_ok=True)
            for v in range(1, 6):
                for f in range(1001, 1101):
                    p = f"{d}/sh{shot:03}_{step}_v{v:03}.{f:04}.exr"
                    if v > 1 and f % 100 == 0:
                        os.link(f"{d}/sh{shot:03}_{step}_v001.{f:04}.exr", p)
                    else:
                        with open(p, "wb") as fh:
                            fh.truncate(((shot + f * 7 + v) % 8 + 1) << 20)
                    n += 1
open(marker, "w").close()
print(f"generated {n} files under {root}", file=sys.stderr)
