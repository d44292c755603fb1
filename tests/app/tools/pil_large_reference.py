#!/usr/bin/python3
"""Writes one 48 MP (8064x6048) JPEG with Pillow and the bytes of Image.open(f).convert('RGB') next to it,
for tst_imageio's large-photo case (issue 10 item 14: Qt's default 128 MB allocation limit refused it).
Built from C-speed Pillow operations only (gradients, noise, merge) so it takes about a second.

usage: pil_large_reference.py OUTDIR   -> OUTDIR/photo48mp.jpg, OUTDIR/photo48mp.rowmd5
The reference pixels are kept as one MD5 per RGB row (6048 lines of hex) instead of 146 MB of bytes:
a mismatch still names the first differing row.
"""
import hashlib
import os
import sys

from PIL import Image

W, H = 8064, 6048


def main(out):
    os.makedirs(out, exist_ok=True)
    red = Image.linear_gradient("L").resize((W, H), Image.BILINEAR)
    green = Image.linear_gradient("L").rotate(90).resize((W, H), Image.BILINEAR)
    blue = Image.effect_noise((W // 8, H // 8), 40).resize((W, H), Image.NEAREST)  # 8x8 blocks of noise
    img = Image.merge("RGB", (red, green, blue))
    path = os.path.join(out, "photo48mp.jpg")
    img.save(path, quality=85)
    del img, red, green, blue  # keep the peak memory to one decoded copy
    ref = Image.open(path).convert("RGB")
    assert ref.size == (W, H)
    data = memoryview(ref.tobytes())
    row = 3 * W
    with open(os.path.join(out, "photo48mp.rowmd5"), "w") as f:
        for y in range(H):
            f.write(hashlib.md5(data[y * row:(y + 1) * row]).hexdigest() + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
