#!/usr/bin/python3
"""Pillow reference for tst_preprocess: synthetic RGB images of odd sizes and contents, and what
Pillow 9.4 + numpy make of them (docs/spec.md §4.3-§4.6): Image.resize(BICUBIC), black canvas paste,
row-major 336 tiles, the squashed 336x336 base crop, and CLIP normalisation with numpy.

Usage: pillow_ref.py OUTDIR   (Debian's /usr/bin/python3 with python3-pil and python3-numpy)
Writes OUTDIR/manifest.txt, one case per line:
  resize NAME SW SH DW DH              NAME.src (SH,SW,3) u8, NAME.out (DH,DW,3) u8
  anyres NAME SW SH FLAVOUR NCROPS NORM  NAME.src, NAME.crops (NCROPS,336,336,3) u8 base first,
                                       NAME.norm (NCROPS,3,336,336) float32 LE when NORM is 1
The canvas geometry comes from layout_ref.py (the independent spec implementation).
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layout_ref  # noqa: E402

TILE = 336
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def make_image(kind, w, h, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    if kind == "noise":
        a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    elif kind == "gradient":
        a = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1),
                      (xx + yy) * 255 // max(w + h - 2, 1)], axis=-1).astype(np.uint8)
    elif kind == "edges":  # 0/255 blocks and 1-px stripes: maximal overshoot, exercises the clamp
        block = max(1, min(w, h) // 7)
        checker = ((xx // block + yy // block) % 2) * 255
        stripes = (xx % 2) * 255
        a = np.stack([checker, stripes, 255 - checker], axis=-1).astype(np.uint8)
    else:  # mixed: gradient + noise + a hard white rectangle
        a = np.stack([xx * 200 // max(w, 1), yy * 180 // max(h, 1), np.full_like(xx, 90)], axis=-1)
        a = a + rng.integers(0, 56, size=(h, w, 3))
        a[h // 4: h // 2 + 1, w // 3: 2 * w // 3 + 1] = 255
        a = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a), "RGB")


def normalise(crops):
    out = []
    for c in crops:
        a = (np.asarray(c) * (1.0 / 255.0)).astype(np.float32)  # uint8 * float -> float64 -> float32
        a = (a - MEAN) / STD                                      # float32, two ops
        out.append(a.transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(out).astype("<f4"))


def anyres_crops(img, flavour):
    w, h = img.size
    cw, ch, cols, rows, nw, nh, pad_l, pad_t = layout_ref.layout(w, h, flavour)[:8]
    canvas = Image.new("RGB", (cw, ch), (0, 0, 0))
    canvas.paste(img.resize((nw, nh), Image.BICUBIC), (pad_l, pad_t))
    crops = [img.resize((TILE, TILE), Image.BICUBIC)]
    for y in range(0, ch, TILE):
        for x in range(0, cw, TILE):
            crops.append(canvas.crop((x, y, x + TILE, y + TILE)))
    return crops


RESIZE_CASES = [  # name, kind, src w, h, dst w, h
    ("one_to_5x3", "noise", 1, 1, 5, 3),
    ("row7_to_col9", "gradient", 7, 1, 1, 9),
    ("tiny_up_336", "edges", 13, 17, 336, 336),
    ("wide_sliver_336", "noise", 4000, 3, 336, 336),
    ("vertical_only", "mixed", 50, 50, 50, 20),
    ("horizontal_only", "edges", 50, 50, 20, 50),
    ("upscale_big", "mixed", 97, 61, 1000, 999),
    ("downscale_mixed", "noise", 1500, 1000, 672, 448),
    ("identity_copy", "noise", 401, 299, 401, 299),
    ("to_3x3", "gradient", 256, 256, 3, 3),
    ("line_to_dot", "noise", 1000, 1, 1, 1),
    ("edges_down_odd", "edges", 999, 777, 211, 333),
    ("tall_to_wide", "mixed", 31, 2000, 700, 9),
]

ANYRES_CASES = [  # name, kind, w, h, flavour, write normalised pixels
    ("photo_640x480", "noise", 640, 480, "orig", 1),
    ("ceil_1000x750", "edges", 1000, 750, "orig", 0),
    ("hd_1920x1080", "gradient", 1920, 1080, "orig", 1),
    ("single_pixel", "noise", 1, 1, "orig", 1),
    ("column_1x700", "edges", 1, 700, "orig", 0),
    ("row_900x2", "mixed", 900, 2, "orig", 0),
    ("odd_37x23", "mixed", 37, 23, "hf", 0),
    ("square_336", "gradient", 336, 336, "orig", 0),
    ("tie_200x300_hf", "noise", 200, 300, "hf", 1),
    ("big_2000x1500", "mixed", 2000, 1500, "orig", 0),
    ("sliver_3000x5", "noise", 3000, 5, "orig", 0),
    ("sliver_5x3000", "edges", 5, 3000, "hf", 0),
    ("round_1408x792", "edges", 1408, 792, "hf", 0),
    ("narrow_17x1000", "gradient", 17, 1000, "orig", 0),
    ("exact_672", "noise", 672, 672, "orig", 0),
]


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    lines = []
    for i, (name, kind, sw, sh, dw, dh) in enumerate(RESIZE_CASES):
        img = make_image(kind, sw, sh, 100 + i)
        open(os.path.join(outdir, name + ".src"), "wb").write(img.tobytes())
        open(os.path.join(outdir, name + ".out"), "wb").write(img.resize((dw, dh), Image.BICUBIC).tobytes())
        lines.append(f"resize {name} {sw} {sh} {dw} {dh}")
    for i, (name, kind, w, h, flavour, norm) in enumerate(ANYRES_CASES):
        img = make_image(kind, w, h, 200 + i)
        crops = anyres_crops(img, flavour)
        open(os.path.join(outdir, name + ".src"), "wb").write(img.tobytes())
        open(os.path.join(outdir, name + ".crops"), "wb").write(b"".join(c.tobytes() for c in crops))
        if norm:
            open(os.path.join(outdir, name + ".norm"), "wb").write(normalise(crops).tobytes())
        lines.append(f"anyres {name} {w} {h} {flavour} {len(crops)} {norm}")
    open(os.path.join(outdir, "manifest.txt"), "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
