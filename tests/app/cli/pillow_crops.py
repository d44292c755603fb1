#!/usr/bin/python3
"""Independent Pillow reference for tst_cli's preprocess test (docs/spec.md §4.2-§4.5), written from the spec,
not from our C++: generates a test image, then the crops ORIG/HF would feed CLIP.

Usage: pillow_crops.py OUTDIR WIDTH HEIGHT REFERENCE(original|transformers) SEED
Writes OUTDIR/input.png (the generated image), OUTDIR/ref-NN.rgb (336*336*3 uint8 per crop, base first,
then tiles row-major), OUTDIR/ref.f32 (normalised [n,3,336,336] float32 LE) and OUTDIR/ref.txt
("cw ch cols rows nw nh left top ncrops").
"""
import math
import sys

import numpy as np
from PIL import Image

TILE = 336
PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def best_resolution(w, h, reference):
    # ORIG reads pairs as (width, height); HF as (height, width) -> different order of the same set.
    cands = [(a, b) for a, b in PINPOINTS] if reference == "original" else [(b, a) for a, b in PINPOINTS]
    best, best_eff, best_waste = None, -1, float("inf")
    for cw, ch in cands:
        s = min(cw / w, ch / h)
        dw, dh = int(w * s), int(h * s)
        eff = min(dw * dh, w * h)
        waste = cw * ch - eff
        if eff > best_eff or (eff == best_eff and waste < best_waste):
            best, best_eff, best_waste = (cw, ch), eff, waste
    return best


def main():
    out, w, h, reference, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), (xx * 7 + yy * 3) % 256], axis=-1)
    a = np.clip(a + rng.integers(-40, 41, size=(h, w, 3)), 0, 255).astype(np.uint8)
    a[h // 3: h // 2, w // 4: w // 2] = 255  # hard edge: exercises the clamp after the cubic overshoot
    img = Image.fromarray(np.ascontiguousarray(a), "RGB")
    img.save(out + "/input.png")

    cw, ch = best_resolution(w, h, reference)
    sw, sh = cw / w, ch / h
    if sw < sh:
        nw, nh = cw, min(math.ceil(h * sw), ch)
    else:
        nh, nw = ch, min(math.ceil(w * sh), cw)
    canvas = Image.new("RGB", (cw, ch), (0, 0, 0))
    left, top = (cw - nw) // 2, (ch - nh) // 2
    canvas.paste(img.resize((nw, nh), Image.BICUBIC), (left, top))
    crops = [img.resize((TILE, TILE), Image.BICUBIC)]
    for y in range(0, ch, TILE):
        for x in range(0, cw, TILE):
            crops.append(canvas.crop((x, y, x + TILE, y + TILE)))
    norm = []
    for i, c in enumerate(crops):
        arr = np.asarray(c, dtype=np.uint8)
        with open("%s/ref-%02d.rgb" % (out, i), "wb") as f:
            f.write(arr.tobytes())
        n = ((arr * (1.0 / 255.0)).astype(np.float32) - MEAN) / STD
        norm.append(n.transpose(2, 0, 1))
    np.ascontiguousarray(np.stack(norm).astype("<f4")).tofile(out + "/ref.f32")
    with open(out + "/ref.txt", "w") as f:
        f.write("%d %d %d %d %d %d %d %d %d\n" % (cw, ch, cw // TILE, ch // TILE, nw, nh, left, top, len(crops)))


if __name__ == "__main__":
    main()
