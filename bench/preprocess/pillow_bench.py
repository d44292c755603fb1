#!/usr/bin/python3
"""Pillow + numpy side of bench-preprocess: the same anyres work as llava::preprocessImage (ORIG
flavour) on the raw RGB image the C++ program wrote, timed in-process.

Usage: pillow_bench.py SRC.rgb W H RUNS CROPS_OUT
Prints "median_ms <value>" and writes the crops of the last run (base first) to CROPS_OUT so the
benchmark can check both sides did identical work.
"""
import os
import statistics
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "vision"))
import layout_ref  # noqa: E402

TILE = 336
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def preprocess(img):
    w, h = img.size
    cw, ch, cols, rows, nw, nh, pad_l, pad_t = layout_ref.layout(w, h, "orig")[:8]
    canvas = Image.new("RGB", (cw, ch), (0, 0, 0))
    canvas.paste(img.resize((nw, nh), Image.BICUBIC), (pad_l, pad_t))
    crops = [img.resize((TILE, TILE), Image.BICUBIC)]
    for y in range(0, ch, TILE):
        for x in range(0, cw, TILE):
            crops.append(canvas.crop((x, y, x + TILE, y + TILE)))
    pixels = np.stack([(((np.asarray(c) * (1.0 / 255.0)).astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)
                       for c in crops])  # (nCrops, 3, 336, 336)
    return crops, pixels


def main(src, w, h, runs, crops_out):
    img = Image.frombytes("RGB", (w, h), open(src, "rb").read())
    times = []
    crops = None
    for _ in range(runs):
        t0 = time.perf_counter()
        crops, _pixels = preprocess(img)
        times.append((time.perf_counter() - t0) * 1000.0)
    open(crops_out, "wb").write(b"".join(c.tobytes() for c in crops))
    print(f"median_ms {statistics.median(times):.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
