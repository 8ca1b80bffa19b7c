"""Prints one line per file under DIR: its path relative to DIR and its SHA-256.

    python tree_digest.py DIR

Two digests are equal exactly when the folders hold the same files with the same bytes,
so a test can show that a failed run left a checkpoint untouched.
"""

import hashlib
import os
import sys

root = sys.argv[1]
for folder, _, files in sorted(os.walk(root)):
    for name in sorted(files):
        path = os.path.join(folder, name)
        with open(path, "rb") as file:
            print(os.path.relpath(path, root), hashlib.sha256(file.read()).hexdigest())
