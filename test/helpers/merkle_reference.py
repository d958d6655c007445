#!/usr/bin/env python3
"""An independent RFC 6962 / RFC 9162 reference for the log's tests (Python 3 standard library only).

Written from the RFC's recursive definitions, not from the TypeScript: MTH, PATH and SUBPROOF are
computed from the leaves themselves, and proofs are verified by recomputing roots recursively.
Reads one JSON request on stdin, writes one JSON answer on stdout:
  {"leaves": [hex...], "inclusion": [[m, n, [hex proof...]]...], "consistency": [[m, n, [hex...]]...]}
→ {"roots": [hex for n = 0..len], "inclusion": [true|false...], "consistency": [true|false...]}
An inclusion/consistency answer is true when the given proof equals the RFC's proof for (m, n).
"""
import hashlib
import json
import sys


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m, leaves):
    n = len(leaves)
    if n <= 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, b):
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def main():
    req = json.load(sys.stdin)
    leaves = [bytes.fromhex(h) for h in req["leaves"]]
    cache = {}

    def prefix(n):
        if n not in cache:
            cache[n] = leaves[:n]
        return cache[n]

    out = {"roots": [mth(prefix(n)).hex() for n in range(len(leaves) + 1)]}
    out["inclusion"] = [
        [h.hex() for h in path(m, prefix(n))] == proof for m, n, proof in req.get("inclusion", [])
    ]
    out["consistency"] = [
        ([] if m in (0, n) else [h.hex() for h in subproof(m, prefix(n), True)]) == proof
        for m, n, proof in req.get("consistency", [])
    ]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
