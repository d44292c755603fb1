#!/usr/bin/python3
"""Writes test images with Pillow and, for each, the bytes of Image.open(f).convert('RGB') (the ORIG
decode, docs/spec.md §4.1) so tst_imageio can compare Qt's decode with Pillow's pixel for pixel.

usage: pil_reference.py OUTDIR     -> OUTDIR/<case>.<ext>, OUTDIR/<case>.rgb, OUTDIR/manifest.txt
manifest line: <case> <image file> <width> <height> <exif: plain|transpose>
Run by tst_imageio at test time (Debian python3-pil); nothing is committed but this script.
"""
import io
import os
import random
import sys

from PIL import Image, ImageOps


def pattern(mode, size, seed):
    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size)
    px = img.load()
    for y in range(h):
        for x in range(w):
            # smooth gradients + noise: exercises JPEG chroma subsampling and palette quantisation
            px[x, y] = ((x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1), rnd.randrange(256))
    if mode == "RGB":
        return img
    if mode == "RGBA":
        a = Image.new("L", size)
        a.putdata([rnd.choice([0, 0, 40, 128, 255]) for _ in range(w * h)])
        img.putalpha(a)
        return img
    if mode == "LA":
        g = img.convert("L")
        a = Image.new("L", size)
        a.putdata([rnd.choice([0, 77, 255]) for _ in range(w * h)])
        return Image.merge("LA", (g, a))
    if mode == "P":
        return img.convert("P", palette=Image.ADAPTIVE, colors=37)
    return img.convert(mode)


def main(out):
    os.makedirs(out, exist_ok=True)
    cases = []

    def save(name, img, ext, orient="plain", **kw):
        path = os.path.join(out, f"{name}.{ext}")
        img.save(path, **kw)
        ref = Image.open(path)
        if orient == "transpose":
            ref = ImageOps.exif_transpose(ref)
        rgb = ref.convert("RGB")
        with open(os.path.join(out, f"{name}.rgb"), "wb") as f:
            f.write(rgb.tobytes())
        cases.append(f"{name} {os.path.basename(path)} {rgb.width} {rgb.height} {orient}")

    save("png_rgb", pattern("RGB", (37, 23), 1), "png")
    save("png_rgba_alpha_dropped", pattern("RGBA", (31, 17), 2), "png")
    save("png_la", pattern("LA", (19, 29), 3), "png")
    save("png_gray", pattern("L", (40, 12), 4), "png")
    save("png_bilevel", pattern("1", (33, 9), 5), "png")
    save("png_palette", pattern("P", (25, 25), 6), "png")
    pal = pattern("P", (21, 14), 7)
    pal.info["transparency"] = 3
    save("png_palette_transparency", pal, "png", transparency=3)
    g16 = Image.new("I;16", (13, 7))
    g16.putdata([(i * 997) % 65536 for i in range(13 * 7)])
    save("png_gray16", g16, "png")
    save("jpeg_444", pattern("RGB", (64, 48), 8), "jpg", quality=90, subsampling=0)
    save("jpeg_422", pattern("RGB", (67, 45), 9), "jpg", quality=85, subsampling=1)
    save("jpeg_420", pattern("RGB", (75, 51), 10), "jpg", quality=75, subsampling=2)
    save("jpeg_gray", pattern("L", (50, 30), 11), "jpg", quality=80)
    save("bmp_rgb", pattern("RGB", (15, 11), 12), "bmp")
    frames = [pattern("P", (20, 16), 20 + i) for i in range(3)]
    save("gif_first_frame", frames[0], "gif", save_all=True, append_images=frames[1:], duration=50)
    gt = pattern("P", (18, 12), 30)
    save("gif_transparent", gt, "gif", transparency=5)

    # EXIF orientation 6 (rotate 90 CW): plain decode keeps the stored 40x24, transpose gives 24x40.
    rot = pattern("RGB", (40, 24), 40)
    exif = Image.Exif()
    exif[0x0112] = 6
    save("jpeg_exif6_plain", rot, "jpg", quality=95, subsampling=0, exif=exif.tobytes())
    save("jpeg_exif6_transposed", rot, "jpg", "transpose", quality=95, subsampling=0, exif=exif.tobytes())

    # Broken inputs (no .rgb): a JPEG cut in half, a text file, an empty file.
    buf = io.BytesIO()
    pattern("RGB", (64, 64), 50).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    with open(os.path.join(out, "truncated.jpg"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(out, "not_an_image.png"), "w") as f:
        f.write("hello, this is text\n")
    open(os.path.join(out, "empty.jpg"), "wb").close()

    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
