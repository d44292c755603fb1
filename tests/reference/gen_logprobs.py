#!/usr/bin/env python3
"""Writes tests/fixtures/golden/logprobs/logprobs.json: HF transformers references for token confidence
(TokenEvent::confidence, `chat --json --logprobs N`). Existing fixture files are only read, never rewritten.

Run by hand from the repository root, in the venv of requirements.txt (the same as gen_fixtures.py):
    /work/venvs/hf/bin/python tests/reference/gen_logprobs.py

Two sections:
* "greedy": the committed tiny -hf models (reloaded with from_pretrained, fp32, eager) answer the golden
  prompt greedily for 32 steps with generate(output_logits=True, output_scores=True). Per step: the chosen id,
  its log-probability and the 8 most likely ids with theirs, as log_softmax of the raw logits over the first
  vocab_text columns (the ORIG head has exactly that many rows; our engine samples over them, docs/spec.md §2.6).
  Greedy has no warper, so output_scores == output_logits (asserted): the processed and raw distributions
  are the same. Inputs are the golden files' input_ids and crops (tests/fixtures/golden), so the prompt is
  the one the parity tests use.
* "warpers": HF's own logits processors (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
  TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper, in generate()'s order) applied to `logits_last` of
  two golden files for several sampling settings; per setting the 10 ids with the highest penalised logits
  (ties: lower id) with log_softmax of the processed scores (null = removed, -inf) and of the raw logits.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.numpy import load_file as np_load_file
from safetensors import safe_open
from transformers import LlavaNextForConditionalGeneration
from transformers.generation.logits_process import (LogitsProcessorList, MinPLogitsWarper,
                                                    RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                                                    TopKLogitsWarper, TopPLogitsWarper)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_fixtures as gf  # noqa: E402  (CLIP constants, spec_normalize, paths)

torch.set_num_threads(2)
GOLDEN = gf.FIX / "golden"
OUT = GOLDEN / "logprobs" / "logprobs.json"
N_STEPS = 32
N_TOP_GREEDY = 8
N_TOP_WARP = 10

GREEDY_FILES = ["llava-v1.6-mistral-tiny-hf__landscape_640x480", "llava-v1.6-vicuna-tiny-hf__small_300x200"]
WARP_FILES = ["llava-v1.6-mistral-tiny-hf__landscape_640x480", "llava-v1.6-34b-tiny-hf__tall_205x656"]
WARP_SETTINGS = [
    dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0),
    dict(temperature=0.7, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0),
    dict(temperature=0.2, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0),
    dict(temperature=1.0, top_k=5, top_p=1.0, min_p=0.0, repetition_penalty=1.0),
    dict(temperature=0.8, top_k=40, top_p=0.9, min_p=0.0, repetition_penalty=1.0),
    dict(temperature=1.5, top_k=0, top_p=0.5, min_p=0.0, repetition_penalty=1.0),
    dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.3, repetition_penalty=1.0),
    dict(temperature=0.9, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.3),
]


def meta_of(path: Path) -> dict:
    with safe_open(str(path), "np") as f:
        return f.metadata()


def variant_for(folder: str) -> dict:
    for v in gf.VARIANTS.values():
        if v["folder"] == folder:
            return v
    raise KeyError(folder)


def crops_pixels(meta: dict) -> np.ndarray:
    strip = np.asarray(Image.open(gf.ROOT / meta["crops_png"]).convert("RGB"))  # [n*336, 336, 3]
    n = strip.shape[0] // 336
    u8 = strip.reshape(n, 336, 336, 3).transpose(0, 3, 1, 2)
    return gf.spec_normalize(np.ascontiguousarray(u8))


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x.double(), dim=-1)


def greedy_case(name: str) -> dict:
    path = GOLDEN / f"{name}.safetensors"
    meta = meta_of(path)
    g = np_load_file(str(path))
    v = variant_for(Path(meta["model_folder"]).name)
    vt = v["vocab_text"]
    model = LlavaNextForConditionalGeneration.from_pretrained(gf.ROOT / meta["model_folder"], torch_dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    ids = torch.from_numpy(g["input_ids"])[None]
    pv = torch.from_numpy(crops_pixels(meta))[None]
    sizes = torch.from_numpy(g["image_sizes"])[None]
    gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pv, image_sizes=sizes,
                         do_sample=False, max_new_tokens=N_STEPS, return_dict_in_generate=True, output_logits=True,
                         output_scores=True, pad_token_id=v["pad_token"], eos_token_id=2)
    toks = gen.sequences[0, ids.shape[1]:].tolist()
    assert toks == g["greedy_tokens"].tolist(), "greedy tokens differ from the committed golden"
    steps = []
    for step, (raw, score) in enumerate(zip(gen.logits, gen.scores)):
        assert torch.equal(raw, score), "greedy: processed scores must equal the raw logits"
        lp = log_softmax(raw[0, :vt].float())
        top = torch.topk(lp, N_TOP_GREEDY)
        steps.append(dict(id=toks[step], logprob=float(lp[toks[step]]), top_ids=top.indices.tolist(),
                          top_logprobs=[float(x) for x in top.values]))
    return dict(name=name, model_folder=meta["model_folder"], image=meta["image"], prompt=meta["prompt"],
                template=meta["template"], vocab_text=vt, steps=steps)


def warp_case(name: str) -> list:
    path = GOLDEN / f"{name}.safetensors"
    g = np_load_file(str(path))
    meta = meta_of(path)
    vt = variant_for(Path(meta["model_folder"]).name)["vocab_text"]
    logits = torch.from_numpy(g["logits_last"][:vt].copy())[None]           # [1, vt] float32
    recent = [int(i) for i in g["input_ids"] if 0 <= i < vt]                 # the prompt's text ids
    recent_t = torch.tensor([recent], dtype=torch.long)
    out = []
    for s in WARP_SETTINGS:
        procs = LogitsProcessorList()
        if s["repetition_penalty"] != 1.0:
            procs.append(RepetitionPenaltyLogitsProcessor(s["repetition_penalty"]))
        penalised = procs(recent_t, logits.clone())
        warpers = LogitsProcessorList([TemperatureLogitsWarper(s["temperature"])])
        if s["top_k"] > 0:
            warpers.append(TopKLogitsWarper(s["top_k"]))
        if s["top_p"] < 1.0:
            warpers.append(TopPLogitsWarper(s["top_p"]))
        if s["min_p"] > 0.0:
            warpers.append(MinPLogitsWarper(s["min_p"]))
        processed = warpers(recent_t, penalised.clone())
        lp = log_softmax(processed[0])
        raw = log_softmax(logits[0])
        pen = penalised[0].numpy()
        order = sorted(range(vt), key=lambda i: (-float(pen[i]), i))[:N_TOP_WARP]
        out.append(dict(name=name, settings=s, recent=recent, kept=int(torch.isfinite(processed[0]).sum()),
                        top_ids=order,
                        top_logprobs=[float(lp[i]) if torch.isfinite(lp[i]) else None for i in order],
                        top_raw_logprobs=[float(raw[i]) for i in order]))
    return out


def main():
    print(f"torch {torch.__version__}  transformers {transformers.__version__}", flush=True)
    greedy = [greedy_case(n) for n in GREEDY_FILES]
    warpers = [w for n in WARP_FILES for w in warp_case(n)]
    meta = dict(generator="tests/reference/gen_logprobs.py", torch=torch.__version__,
                transformers=transformers.__version__,
                note="natural-log probabilities; raw = log_softmax of the logits over the first vocab_text ids")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dict(meta=meta, greedy=greedy, warpers=warpers), indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
