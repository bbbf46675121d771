#!/usr/bin/env python3
"""Generates the `ls` benchmark tree: SHOTS shot folders x 10 sequences x 100 frames (empty
files), with gaps in some sequences and a few plain files per shot. Idempotent: writes a
`.complete` marker last and does nothing when it exists."""
import os
import sys

root = sys.argv[1]
shots = int(sys.argv[2]) if len(sys.argv) > 2 else 200
marker = root.rstrip("/") + ".complete"
if os.path.exists(marker):
    sys.exit(0)
total = 0
for s in range(shots):
    shot = os.path.join(root, f"seq{s // 20:02d}", f"sh{s:04d}")
    for k, step in enumerate(["plate", "comp", "roto", "paint", "lighting",
                              "fx", "matte", "denoise", "grade", "precomp"]):
        d = os.path.join(shot, step)
        os.makedirs(d, exist_ok=True)
        for f in range(1001, 1101):
            # Gaps: every third shot loses frames in two of its sequences.
            if s % 3 == 0 and k in (2, 7) and f in (1040, 1041, 1077):
                continue
            fd = os.open(os.path.join(d, f"{step}_sh{s:04d}_v001.{f:04d}.exr"),
                         os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)
            total += 1
    for name in ("notes.txt", "edit.mov", "shot.json"):
        open(os.path.join(shot, name), "w").close()
        total += 1
open(marker, "w").close()
print(f"generated {total} files under {root}", file=sys.stderr)
