#!/usr/bin/env python3
"""The fileseq way to list a tree: findSequencesOnDisk on every directory os.walk finds."""
import os
import sys

import fileseq

count = 0
for dirpath, dirnames, _ in os.walk(sys.argv[1]):
    dirnames.sort()
    for seq in fileseq.findSequencesOnDisk(dirpath):
        count += 1
        sys.stdout.write(str(seq) + "\n")
print(f"{count} entries", file=sys.stderr)
