#!/usr/bin/python3
"""Independent reference for the anyres geometry (docs/spec.md §4.2-§5.4), written from the spec
formulas in plain Python floats (= IEEE double) with Python's own int(), math.ceil, round(x, 7) and //.

Usage: layout_ref.py            -> prints one line per (size, flavour) for the built-in size set:
         "W H flavour cw ch cols rows nw nh padL padT Hc Wc rowBegin rowEnd colBegin colEnd tokens"
       layout_ref.py W H ...    -> the same for the given sizes only.
Used at test time by tst_anyres (run with Debian's /usr/bin/python3) and imported by pillow_ref.py.
"""
import math
import random
import sys

PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]  # as stored in config.json
TILE = 336
PATCHES = 24


def candidates(flavour):
    """(width, height) pairs in the order the reference iterates them."""
    if flavour == "orig":
        return [(p[0], p[1]) for p in PINPOINTS]  # ORIG: pair = (width, height)
    return [(p[1], p[0]) for p in PINPOINTS]      # HF: pair = (height, width)


def best_resolution(w, h, cands):
    best, best_eff, best_waste = None, -1, float("inf")
    for cw, ch in cands:
        s = min(cw / w, ch / h)
        dw, dh = int(w * s), int(h * s)
        eff = min(dw * dh, w * h)
        waste = cw * ch - eff
        if eff > best_eff or (eff == best_eff and waste < best_waste):
            best, best_eff, best_waste = (cw, ch), eff, waste
    return best


def resized_size(w, h, cw, ch):
    sw, sh = cw / w, ch / h
    if sw < sh:
        return cw, min(math.ceil(h * sw), ch)
    return min(math.ceil(w * sh), cw), ch


def layout(w, h, flavour):
    cw, ch = best_resolution(w, h, candidates(flavour))
    cols, rows = cw // TILE, ch // TILE
    nw, nh = resized_size(w, h, cw, ch)
    pad_l, pad_t = (cw - nw) // 2, (ch - nh) // 2
    hc, wc = rows * PATCHES, cols * PATCHES
    to_int = (lambda x: int(x)) if flavour == "orig" else (lambda x: int(round(x, 7)))
    r0, r1, c0, c1 = 0, hc, 0, wc
    if w / h > wc / hc:
        new_h = to_int(h * (wc / w))
        p = (hc - new_h) // 2
        r0, r1 = p, hc - p
    else:
        new_w = to_int(w * (hc / h))
        p = (wc - new_w) // 2
        c0, c1 = p, wc - p
    hp, wp = r1 - r0, c1 - c0
    tokens = PATCHES * PATCHES + hp * wp + hp
    return (cw, ch, cols, rows, nw, nh, pad_l, pad_t, hc, wc, r0, r1, c0, c1, tokens)


def size_set():
    sizes = set()
    for w in range(1, 41):  # every tiny size, where sub-16-px slivers add odd tie cases
        for h in range(1, 41):
            sizes.add((w, h))
    for w in range(1, 2049, 37):  # a coarse sweep of the whole 1..2048 square
        for h in range(1, 2049, 41):
            sizes.add((w, h))
    for a in (1, 2, 3, 5, 16, 100, 335, 336, 337, 671, 672, 673, 1007, 1008, 1009, 4000, 16383, 16384, 65536):
        for b in (1, 2, 7, 336, 4000, 16384, 65536):
            sizes.add((a, b))
            sizes.add((b, a))
    # Sizes near the flavours' rounding disagreement (docs/spec.md §5.5) and 16:9 / 4:3 families.
    for k in range(1, 200):
        for base in ((205, 656), (205, 984), (47, 1128), (16, 9), (4, 3), (3, 2)):
            sizes.add((base[0] * k, base[1] * k))
            sizes.add((base[1] * k, base[0] * k))
    rng = random.Random(1234)
    for _ in range(3000):
        sizes.add((rng.randint(1, 16384), rng.randint(1, 16384)))
    for _ in range(1000):  # extreme aspects
        sizes.add((rng.randint(1, 40), rng.randint(1, 16384)))
        sizes.add((rng.randint(1, 16384), rng.randint(1, 40)))
    return sorted(s for s in sizes if s[0] <= 65536 and s[1] <= 65536)


def main(argv):
    if len(argv) > 1:
        vals = [int(v) for v in argv[1:]]
        sizes = list(zip(vals[0::2], vals[1::2]))
    else:
        sizes = size_set()
    out = []
    for w, h in sizes:
        for flavour in ("orig", "hf"):
            out.append(" ".join(str(v) for v in (w, h, flavour) + layout(w, h, flavour)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)
