#!/usr/bin/env python3
"""Writes tests/fixtures/golden/attention/llava-v1.6-mistral-tiny-hf__landscape_640x480.safetensors: HF
transformers' attention probabilities (output_attentions=True, eager attention, fp32 CPU) of the tiny mistral
-hf fixture on its golden prompt, for a few query positions, every layer and head. Existing fixtures are only
read (model folder, golden input_ids, crops). tst_attentionparity compares LlavaModel's captured rows.

    /work/venvs/hf/bin/python tests/reference/gen_attention.py

Tensors: positions I64 [P] (query positions in the spliced sequence); rows F32 [P, L, H, T] with
rows[p, l, h, :positions[p] + 1] = softmax(q k^T / sqrt(d)) of that query row and zeros after (causal).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as np_load_file, save_file as np_save_file
from transformers import LlavaNextForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_fixtures as gf  # noqa: E402
import gen_logprobs as gl  # noqa: E402

NAME = "llava-v1.6-mistral-tiny-hf__landscape_640x480"
OUT = gf.FIX / "golden" / "attention" / f"{NAME}.safetensors"


def main():
    path = gf.FIX / "golden" / f"{NAME}.safetensors"
    meta = gl.meta_of(path)
    g = np_load_file(str(path))
    model = LlavaNextForConditionalGeneration.from_pretrained(gf.ROOT / meta["model_folder"], torch_dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    ids = torch.from_numpy(g["input_ids"])[None]
    pv = torch.from_numpy(gl.crops_pixels(meta))[None]
    sizes = torch.from_numpy(g["image_sizes"])[None]
    with torch.no_grad():
        out = model(input_ids=ids, pixel_values=pv, image_sizes=sizes, output_attentions=True, use_cache=False)
    T = ids.shape[1]
    image = (ids[0] == 32000).nonzero().flatten()
    first_img, last_img = int(image[0]), int(image[-1])
    # the BOS, an image position (base), the first text after the image, and the last prompt position
    positions = [0, first_img + 100, last_img + 1, T - 1]
    att = torch.stack([a[0] for a in out.attentions])  # [L, H, T, T]
    rows = att[:, :, positions, :].permute(2, 0, 1, 3).contiguous().float().numpy()  # [P, L, H, T]
    for i, p in enumerate(positions):
        assert np.all(rows[i, :, :, p + 1:] == 0), "eager attention must be causal"
        assert np.allclose(rows[i].sum(-1), 1, atol=1e-5)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np_save_file({"positions": np.array(positions, np.int64), "rows": rows}, str(OUT),
                 metadata={"golden": NAME, "reference": f"transformers {__import__('transformers').__version__} "
                           "eager output_attentions fp32 CPU", "torch": torch.__version__})
    print("wrote", OUT, rows.shape)


if __name__ == "__main__":
    main()
