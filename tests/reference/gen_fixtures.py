#!/usr/bin/env python3
"""Golden-fixture generator for Llava Insight's CPU-engine parity tests (developer tool, not product).

Builds tiny random-weight LLaVA-NeXT models with the real topology scaled down (transformers
LlavaNextForConditionalGeneration, float32 on the CPU, fixed seeds, weights rounded to fp16),
saves them in the llava-hf layout (and a copy in the original liuhaotian layout), and records
reference tensors for a few synthetic images into tests/fixtures/golden/*.safetensors.

Usage (from the repository root):
    tests/reference/.venv/bin/python tests/reference/gen_fixtures.py [--only mistral,vicuna,yi] [--orig-only]
See tests/reference/README.md and tests/fixtures/README.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from safetensors.numpy import save_file as np_save_file
from safetensors.torch import load_file, save_file

import sentencepiece as spm
import transformers
from transformers import (CLIPVisionConfig, LlamaConfig, LlamaTokenizer, LlavaNextConfig,
                          LlavaNextForConditionalGeneration, LlavaNextImageProcessor,
                          LlavaNextProcessor, MistralConfig)
from transformers.models.llava_next import modeling_llava_next as mln

torch.set_num_threads(2)

ROOT = Path(__file__).resolve().parents[2]
SHARED_TOK = ROOT.parent / "shared" / "assets" / "tokenizers"
if not SHARED_TOK.is_dir():
    SHARED_TOK = Path("/work/shared/assets/tokenizers")
FIX = ROOT / "tests" / "fixtures"

PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
# HF reads each pair as (height, width); ORIG as (width, height).  Feeding HF this list makes its
# select_best_resolution iterate the candidates in ORIG order (docs/spec.md §4.2).
PINPOINTS_ORIG_ORDER_FOR_HF = [[w, h] for (h, w) in PINPOINTS]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
N_GREEDY = 32
N_VOCAB_SUBSET = 64

TOKENIZER_SHA256 = {
    "mistral-7b-v0.1.model": "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055",
    "llama-2.model": "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347",
    "yi-34b.model": "386c49cf943d71aa110361135338c50e38beeff0a66593480421f37b319e1a39",
}

VICUNA_SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the human's questions.")
QUESTION = "What is in this picture?"

# ----------------------------------------------------------------------------------------------
# Model variants
# ----------------------------------------------------------------------------------------------
VARIANTS = {
    "mistral": dict(
        folder="llava-v1.6-mistral-tiny-hf", orig_folder="llava-v1.6-mistral-tiny",
        seed=1234, text_cls=MistralConfig, text_model_type="mistral", tokenizer="mistral-7b-v0.1.model",
        hidden=32, heads=4, kv_heads=2, ffn=64, layers=2, rope_theta=1e6, max_pos=32768,
        vocab_text=32000, vocab=32064, image_token=32000, pad_token=32001, add_bos=True,
        extra_text=dict(sliding_window=None), template="mistral_instruct",
        prompt=f"[INST] <image>\n{QUESTION} [/INST]",
        hf_naming="legacy", shards=2,
        images=["landscape_640x480", "small_300x200", "tall_205x656", "wide16x9_704x396", "wide_800x200"],
        orig_images=["landscape_640x480", "small_300x200", "tall_205x656", "wide16x9_704x396"],
        full_debug=True, debug_images=["landscape_640x480", "small_300x200"]),
    "vicuna": dict(
        folder="llava-v1.6-vicuna-tiny-hf", seed=2345, text_cls=LlamaConfig, text_model_type="llama",
        tokenizer="llama-2.model", hidden=8, heads=2, kv_heads=2, ffn=24, layers=2, rope_theta=10000.0,
        max_pos=4096, vocab_text=32000, vocab=32064, image_token=32000, pad_token=32001, add_bos=True,
        extra_text={}, template="llava_v1",
        prompt=f"{VICUNA_SYSTEM} USER: <image>\n{QUESTION} ASSISTANT:",
        hf_naming="legacy", shards=1, images=["landscape_640x480", "small_300x200"], full_debug=False,
        orig_folder="llava-v1.6-vicuna-tiny", orig_images=["landscape_640x480", "small_300x200"]),
    "yi": dict(
        folder="llava-v1.6-34b-tiny-hf", seed=3456, text_cls=LlamaConfig, text_model_type="llama",
        tokenizer="yi-34b.model", hidden=8, heads=2, kv_heads=1, ffn=24, layers=2, rope_theta=5e6,
        max_pos=4096, vocab_text=64000, vocab=64064, image_token=64000, pad_token=64001, add_bos=False,
        extra_text={}, template="chatml_direct",
        prompt=("<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\n<image>\n"
                f"{QUESTION}<|im_end|><|im_start|>assistant\n"),
        hf_naming="resaved", shards=1, images=["landscape_640x480", "tall_205x656"], full_debug=False,
        orig_folder="llava-v1.6-34b-tiny", orig_images=["landscape_640x480"]),
}

CLIP = dict(hidden_size=32, intermediate_size=64, num_attention_heads=2, num_hidden_layers=3,
            image_size=336, patch_size=14, projection_dim=32, hidden_act="quick_gelu", layer_norm_eps=1e-5)


# ----------------------------------------------------------------------------------------------
# Synthetic images (deterministic; saved as PNG, and the PNG is what gets processed)
# ----------------------------------------------------------------------------------------------
IMAGES = {
    "landscape_640x480": (640, 480, 11),
    "small_300x200": (300, 200, 12),     # <= 336x336 non-square: ORIG/HF tie-break differs (docs/spec.md §4.2)
    "tall_205x656": (205, 656, 13),      # tall 1x2 grid, HF round(.,7) unpad fix differs (docs/spec.md §5.5)
    "wide16x9_704x396": (704, 396, 14),  # 16:9 2x2 grid, HF rounding fix (rows) differs
    "wide_800x200": (800, 200, 15),      # 3x1 grid (1008x336 canvas)
}


def make_image(w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(2 * np.pi * x / (w / 2.3) + seed)
    g = 255.0 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.cos(2 * np.pi * (x + y) / 97.0)
    arr = np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    d = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(4, max(5, w // 3))), y0 + int(rng.integers(4, max(5, h // 3)))
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            d.rectangle([x0, y0, x1, y1], fill=col)
        else:
            d.ellipse([x0, y0, x1, y1], fill=col, outline=(255, 255, 255))
    for k in range(0, w, 17):  # thin high-frequency lines exercise the bicubic kernel
        d.line([(k, 0), (k + h // 4, h - 1)], fill=(0, 0, 0) if k % 34 else (255, 255, 255))
    return img


def load_or_make_images(names):
    out = {}
    (FIX / "images").mkdir(parents=True, exist_ok=True)
    for name in names:
        w, h, seed = IMAGES[name]
        p = FIX / "images" / f"{name}.png"
        make_image(w, h, seed).save(p, optimize=True)
        img = Image.open(p).convert("RGB")
        assert img.size == (w, h)
        out[name] = img
    return out


# ----------------------------------------------------------------------------------------------
# Tokenizer / processor
# ----------------------------------------------------------------------------------------------
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_tokenizer(v):
    path = SHARED_TOK / v["tokenizer"]
    assert sha256(path) == TOKENIZER_SHA256[v["tokenizer"]], f"wrong tokenizer file {path}"
    yi = v["tokenizer"] == "yi-34b.model"
    extra = dict(bos_token="<|startoftext|>", eos_token="<|endoftext|>") if yi else {}
    tok = LlamaTokenizer(vocab_file=str(path), legacy=True, add_bos_token=v["add_bos"], add_eos_token=False,
                         padding_side="left", **extra)
    assert len(tok) == v["vocab_text"], len(tok)
    specials = (["<|im_start|>", "<|im_end|>"] if yi else []) + ["<image>"]
    tok.add_special_tokens({"additional_special_tokens": specials})
    tok.add_special_tokens({"pad_token": "<pad>"})
    if yi:
        assert tok.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"]) == [6, 7]
    assert tok.convert_tokens_to_ids("<image>") == v["image_token"], tok.convert_tokens_to_ids("<image>")
    assert tok.convert_tokens_to_ids("<pad>") == v["pad_token"]
    return tok, path


def orig_tokenize(v, prompt: str):
    """haotian-liu tokenizer_image_token (docs/spec.md §7.2) with plain sentencepiece: list with -200."""
    sp = spm.SentencePieceProcessor(model_file=str(SHARED_TOK / v["tokenizer"]))
    chunks = []
    for c in prompt.split("<image>"):
        ids = sp.encode(c)
        if v["add_bos"]:
            ids = [sp.bos_id()] + ids
        chunks.append(ids)
    out, offset = [], 0
    if chunks and chunks[0] and v["add_bos"] and chunks[0][0] == sp.bos_id():
        offset = 1
        out.append(chunks[0][0])
    for i, c in enumerate(chunks):
        if i:
            out.append(-200)
        out.extend(c[offset:])
    return out


def make_image_processor(pinpoints):
    return LlavaNextImageProcessor(
        do_resize=True, size={"shortest_edge": 336}, image_grid_pinpoints=pinpoints, resample=3,
        do_center_crop=True, crop_size={"height": 336, "width": 336}, do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=CLIP_MEAN, image_std=CLIP_STD, do_pad=True, do_convert_rgb=True)


def spec_normalize(u8: np.ndarray) -> np.ndarray:
    """docs/spec.md §4.5 float sequence on uint8 CHW crops."""
    a = (u8.astype(np.float64) * (1.0 / 255.0)).astype(np.float32)
    mean = np.array(CLIP_MEAN, np.float32)[None, :, None, None]
    std = np.array(CLIP_STD, np.float32)[None, :, None, None]
    return ((a - mean) / std).astype(np.float32)


def preprocess(img, flavour):
    pins = PINPOINTS if flavour == "hf" else PINPOINTS_ORIG_ORDER_FOR_HF
    ip = make_image_processor(pins)
    pv = ip(img, return_tensors="np")["pixel_values"][0].astype(np.float32)  # [n,3,336,336]
    raw = make_image_processor(pins)(img, do_rescale=False, do_normalize=False, return_tensors="np")
    u8f = raw["pixel_values"][0]
    u8 = np.rint(u8f).astype(np.uint8)
    assert np.array_equal(u8.astype(np.float32), u8f.astype(np.float32))
    assert np.array_equal(spec_normalize(u8), pv), "docs/spec.md §4.5 normalisation differs from HF"
    return u8, pv


def save_crops_png(u8, path: Path):
    n = u8.shape[0]
    strip = np.ascontiguousarray(u8.transpose(0, 2, 3, 1).reshape(n * 336, 336, 3))
    Image.fromarray(strip, "RGB").save(path, optimize=True)
    back = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(back, strip)


# ----------------------------------------------------------------------------------------------
# Model building
# ----------------------------------------------------------------------------------------------
def build_config(v, pinpoints):
    vc = CLIPVisionConfig(**CLIP)
    tc = v["text_cls"](
        vocab_size=v["vocab"], hidden_size=v["hidden"], intermediate_size=v["ffn"],
        num_hidden_layers=v["layers"], num_attention_heads=v["heads"], num_key_value_heads=v["kv_heads"],
        hidden_act="silu", max_position_embeddings=v["max_pos"], rms_norm_eps=1e-5, rope_theta=v["rope_theta"],
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=v["pad_token"],
        attention_bias=False, **v["extra_text"])
    cfg = LlavaNextConfig(vision_config=vc, text_config=tc, image_token_index=v["image_token"],
                          projector_hidden_act="gelu", vision_feature_select_strategy="default",
                          vision_feature_layer=-2, image_grid_pinpoints=pinpoints, tie_word_embeddings=False,
                          use_image_newline_parameter=True, image_seq_length=576)
    cfg._attn_implementation = "eager"
    return cfg


@torch.no_grad()
def init_weights(model, v, seed):
    g = torch.Generator().manual_seed(seed)

    def n(shape, std):
        return torch.randn(shape, generator=g) * std

    D = v["hidden"]
    for name, p in sorted(model.named_parameters()):
        s = tuple(p.shape)
        if name.endswith("embed_tokens.weight"):
            p.copy_(n(s, 1.0))
        elif name.endswith("lm_head.weight"):
            p.copy_(n(s, 3.0 / math.sqrt(D)))
        elif "norm" in name and name.endswith("weight"):
            p.copy_(1.0 + n(s, 0.1))
        elif name.endswith("bias"):
            p.copy_(n(s, 0.1))
        elif name.endswith("class_embedding") or name.endswith("image_newline"):
            p.copy_(n(s, 1.0))
        elif name.endswith("position_embedding.weight"):
            p.copy_(n(s, 0.5))
        elif name.endswith("patch_embedding.weight"):
            p.copy_(n(s, 1.0 / math.sqrt(3 * 14 * 14)))
        elif p.dim() == 2:
            p.copy_(n(s, 1.0 / math.sqrt(s[1])))
        else:
            raise RuntimeError(f"no init rule for {name} {s}")
    # Extra vocab rows (>= real tokenizer size): like the llava-hf converter, near the row mean.
    vt = v["vocab_text"]
    emb = model.get_input_embeddings().weight
    head = model.lm_head.weight
    for w in (emb, head):
        mu = w[:vt].mean(0, keepdim=True)
        w[vt:] = mu + n((w.shape[0] - vt, w.shape[1]), 1e-3)
    for p in model.parameters():  # storage is F16: make the fp32 reference use exactly those values
        p.copy_(p.half().float())


def hf_legacy_name(new: str) -> str:
    """transformers >=4.52 module names -> names as stored on the Hub by the llava-hf converter."""
    if new.startswith("model.language_model."):
        return "language_model.model." + new[len("model.language_model."):]
    if new == "lm_head.weight":
        return "language_model.lm_head.weight"
    for pre in ("model.vision_tower.", "model.multi_modal_projector.", "model.image_newline"):
        if new.startswith(pre):
            return new[len("model."):]
    raise KeyError(new)


def orig_name(new: str) -> str:
    """docs/spec.md §2.4 in reverse: HF (new module names) -> liuhaotian original names."""
    if new.startswith("model.language_model."):
        return "model." + new[len("model.language_model."):]
    if new == "lm_head.weight":
        return "lm_head.weight"
    if new.startswith("model.vision_tower."):
        return "model.vision_tower.vision_tower." + new[len("model.vision_tower."):]
    if new.startswith("model.multi_modal_projector.linear_1."):
        return "model.mm_projector.0." + new.rsplit(".", 1)[1]
    if new.startswith("model.multi_modal_projector.linear_2."):
        return "model.mm_projector.2." + new.rsplit(".", 1)[1]
    if new == "model.image_newline":
        return "model.image_newline"
    raise KeyError(new)


def hf_converter_rename(key: str) -> str:
    """The ordered substring replacements of convert_llava_next_weights_to_hf.py (docs/spec.md §2.4)."""
    for a, b in [("model.vision_tower.", ""), ("model.mm_projector", "multi_modal_projector"),
                 ("model", "model.model"), ("vision_model.model", "vision_model"),
                 ("lm_head", "language_model.lm_head"), ("model.model", "language_model.model"),
                 ("multi_modal_projector.0", "multi_modal_projector.linear_1"),
                 ("multi_modal_projector.2", "multi_modal_projector.linear_2"),
                 ("language_model.model.image_newline", "image_newline")]:
        if a in key:
            key = key.replace(a, b)
    return key


def f16_state(model):
    return {k: t.detach().to(torch.float16).contiguous() for k, t in model.state_dict().items()}


def write_safetensors_sharded(tensors: dict, folder: Path, shards: int):
    meta = {"format": "pt"}
    keys = list(tensors)
    if shards == 1:
        save_file(tensors, folder / "model.safetensors", metadata=meta)
        return
    # split: vision tower + projector + newline + embeddings in shard 1, the rest in shard 2
    first = [k for k in keys if "language_model.model.layers" not in k and "lm_head" not in k]
    parts = [first, [k for k in keys if k not in first]]
    weight_map, total = {}, 0
    for i, part in enumerate(parts, 1):
        fn = f"model-{i:05d}-of-{len(parts):05d}.safetensors"
        save_file({k: tensors[k] for k in part}, folder / fn, metadata=meta)
        for k in part:
            weight_map[k] = fn
            total += tensors[k].numel() * tensors[k].element_size()
    idx = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "model.safetensors.index.json").write_text(json.dumps(idx, indent=2) + "\n")


def write_json(path: Path, obj):
    path.write_text(json.dumps(obj, indent=2) + "\n")


def save_hf_folder(model, cfg, v, tok_path):
    folder = FIX / "models" / v["folder"]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sd = f16_state(model)
    if v["hf_naming"] == "legacy":
        sd = {hf_legacy_name(k): t for k, t in sd.items()}
    write_safetensors_sharded(sd, folder, v["shards"])
    cfg.save_pretrained(folder)
    c = json.loads((folder / "config.json").read_text())
    c.pop("dtype", None)
    c["torch_dtype"] = "float16"
    c["architectures"] = ["LlavaNextForConditionalGeneration"]
    c.get("text_config", {}).pop("dtype", None)
    c.get("vision_config", {}).pop("dtype", None)
    c["_name_or_path"] = v["folder"]
    write_json(folder / "config.json", c)
    write_tokenizer_note(folder, v, tok_path)
    write_json(folder / "preprocessor_config.json", {
        "image_processor_type": "LlavaNextImageProcessor", "processor_class": "LlavaNextProcessor",
        "do_resize": True, "size": {"shortest_edge": 336}, "resample": 3, "do_center_crop": True,
        "crop_size": {"height": 336, "width": 336}, "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "do_pad": True,
        "do_convert_rgb": True, "image_grid_pinpoints": PINPOINTS})
    write_json(folder / "processor_config.json", {
        "processor_class": "LlavaNextProcessor", "patch_size": 14, "vision_feature_select_strategy": "default",
        "num_additional_image_tokens": 1, "image_token": "<image>"})
    write_json(folder / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2,
                                                   "pad_token_id": v["pad_token"]})
    return folder


def write_tokenizer_note(folder: Path, v, tok_path: Path, orig=False):
    added = {}
    if not orig:
        added[str(v["image_token"])] = {"content": "<image>", "special": True, "normalized": False}
        added[str(v["pad_token"])] = {"content": "<pad>", "special": True, "normalized": False}
    write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "LlamaTokenizer",
        "add_bos_token": v["add_bos"], "add_eos_token": False, "legacy": True,
        "bos_token": "<|startoftext|>" if v["tokenizer"] == "yi-34b.model" else "<s>",
        "eos_token": "<|endoftext|>" if v["tokenizer"] == "yi-34b.model" else "</s>",
        "unk_token": "<unk>", "pad_token": None if orig else "<pad>",
        "padding_side": "left" if not orig else "right",
        "model_max_length": 4096 if orig else v["max_pos"],
        "added_tokens_decoder": added,
        "llava_insight_shared_tokenizer": f"shared/assets/tokenizers/{v['tokenizer']}",
        "llava_insight_shared_tokenizer_sha256": TOKENIZER_SHA256[v["tokenizer"]],
        "llava_insight_template": v["template"],
    })
    (folder / "TOKENIZER.md").write_text(
        f"tokenizer.model is NOT copied here: use `../shared/assets/tokenizers/{v['tokenizer']}` "
        f"(relative to the project root; sha256 {TOKENIZER_SHA256[v['tokenizer']]}).\n"
        f"Chat template: {v['template']}.\n")


def save_orig_folder(model, v, tok_path):
    folder = FIX / "models" / v["orig_folder"]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    vt = v["vocab_text"]
    sd = {}
    for k, t in f16_state(model).items():
        nk = orig_name(k)
        if nk in ("model.embed_tokens.weight", "lm_head.weight"):
            t = t[:vt].contiguous()  # ORIG vocabulary has exactly vocab_text rows
        sd[nk] = t
    save_file(sd, folder / "model.safetensors", metadata={"format": "pt"})
    write_json(folder / "config.json", orig_config(v, model.config.text_config))
    write_json(folder / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2})
    yi = v["tokenizer"] == "yi-34b.model"
    write_json(folder / "special_tokens_map.json",
               {"bos_token": "<|startoftext|>" if yi else "<s>", "eos_token": "<|endoftext|>" if yi else "</s>",
                "unk_token": "<unk>", "pad_token": "<unk>"})
    write_tokenizer_note(folder, v, tok_path, orig=True)
    return folder


def orig_config(v, tc):
    """config.json of an original-layout folder (docs/spec.md §2.2): LlavaMistralForCausalLM / llava_mistral for
    mistral, LlavaLlamaForCausalLM / llava for vicuna and 34b (key order as in the real files)."""
    vt = v["vocab_text"]
    mistral = v["text_model_type"] == "mistral"
    llm = {"_name_or_path": v["orig_folder"],
           "architectures": ["LlavaMistralForCausalLM" if mistral else "LlavaLlamaForCausalLM"],
           "model_type": "llava_mistral" if mistral else "llava"}
    if not mistral:
        llm["attention_bias"] = False
    llm.update({"attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
        "hidden_act": "silu", "hidden_size": tc.hidden_size, "initializer_range": 0.02,
        "intermediate_size": tc.intermediate_size, "max_position_embeddings": tc.max_position_embeddings,
        "num_attention_heads": tc.num_attention_heads, "num_hidden_layers": tc.num_hidden_layers,
        "num_key_value_heads": tc.num_key_value_heads})
    if not mistral:
        llm["pretraining_tp"] = 1
    llm["rms_norm_eps"] = tc.rms_norm_eps
    if not mistral:
        llm["rope_scaling"] = None
    llm["rope_theta"] = tc.rope_theta
    if mistral:
        llm["sliding_window"] = None
    cfg = {**llm, "tie_word_embeddings": False,
        "torch_dtype": "float16", "transformers_version": "4.36.2", "use_cache": True, "vocab_size": vt,
        "freeze_mm_mlp_adapter": False, "freeze_mm_vision_resampler": False,
        "image_aspect_ratio": "anyres", "image_crop_resolution": 224, "image_split_resolution": 224,
        "image_grid_pinpoints": PINPOINTS, "mm_hidden_size": CLIP["hidden_size"],
        "mm_patch_merge_type": "spatial_unpad", "mm_projector_lr": None, "mm_projector_type": "mlp2x_gelu",
        "mm_resampler_type": None, "mm_use_im_patch_token": False, "mm_use_im_start_end": False,
        "mm_vision_select_feature": "patch", "mm_vision_select_layer": -2,
        "mm_vision_tower": "openai/clip-vit-large-patch14-336", "mm_vision_tower_lr": 2e-06,
        "tokenizer_model_max_length": 4096, "tokenizer_padding_side": "right", "tune_mm_mlp_adapter": False,
        "tune_mm_vision_resampler": False, "unfreeze_mm_vision_tower": True, "use_mm_proj": True,
        # Not present in real ORIG configs (they take the tower from mm_vision_tower). The tiny tower is
        # not CLIP-L, so its shape is recorded here for loaders/tests; all values are also derivable
        # from the tensor shapes in model.safetensors except num_attention_heads and layer_norm_eps.
        "vision_config": {"hidden_size": CLIP["hidden_size"], "intermediate_size": CLIP["intermediate_size"],
                                        "num_attention_heads": CLIP["num_attention_heads"],
                                        "num_hidden_layers": CLIP["num_hidden_layers"], "image_size": 336,
                                        "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5},
    }
    return cfg


# ----------------------------------------------------------------------------------------------
# Reference runs
# ----------------------------------------------------------------------------------------------
class OrigUnpad:
    """ORIG unpad rounding: plain int() instead of HF's int(round(x, 7)) (docs/spec.md §5.2)."""

    def __enter__(self):
        self.saved = mln.unpad_image

        def unpad_orig(tensor, original_size):
            if not isinstance(original_size, (list, tuple)):
                original_size = original_size.tolist()
            oh, ow = original_size
            ch, cw = tensor.shape[1:]
            if ow / oh > cw / ch:
                nh = int(oh * (cw / ow))
                p = (ch - nh) // 2
                return tensor[:, p:ch - p, :]
            nw = int(ow * (ch / oh))
            p = (cw - nw) // 2
            return tensor[:, :, p:cw - p]

        mln.unpad_image = unpad_orig
        return self

    def __exit__(self, *a):
        mln.unpad_image = self.saved


def vocab_subset(v, rng_seed):
    rng = np.random.default_rng(rng_seed)
    V = v["vocab"]
    fixed = [0, 1, 2, 13, v["image_token"], V - 1]
    rest = rng.choice(np.setdiff1d(np.arange(v["vocab_text"]), fixed), N_VOCAB_SUBSET - len(fixed), replace=False)
    return np.sort(np.concatenate([fixed, rest])).astype(np.int64)


def logit_positions(ids, image_token):
    img = np.nonzero(ids == image_token)[0]
    txt = np.nonzero(ids != image_token)[0]
    sel = set(txt.tolist())
    if len(img):
        sel.update(img[:3].tolist())
        sel.update(img[-3:].tolist())
        sel.update(img[::29].tolist())
    return np.array(sorted(sel), np.int64)


@torch.no_grad()
def run_reference(model, v, u8, pv, ids_list, img_hw, flavour, image_token_in_ids):
    """ids_list: HF-expanded ids (image token repeated N).  Returns dict of numpy arrays."""
    ids = torch.tensor([ids_list], dtype=torch.long)
    pixel_values = torch.from_numpy(pv)[None]  # [1,n,3,336,336]
    image_sizes = torch.tensor([img_hw], dtype=torch.long)
    vt = v["vocab_text"]
    m = model.model
    vis = m.vision_tower(torch.from_numpy(pv), output_hidden_states=True)
    hs = vis.hidden_states[-2][:, 1:]                           # [n,576,dV]
    proj = m.multi_modal_projector(hs)                           # [n,576,D]
    feats = m.get_image_features(pixel_values, image_sizes)[0]  # [N,D]
    n_img = int((ids == v["image_token"]).sum())
    assert feats.shape[0] == n_img, (feats.shape, n_img)
    out = model(input_ids=ids, pixel_values=pixel_values, image_sizes=image_sizes, use_cache=False)
    logits = out.logits[0].float()                               # [T,V]
    gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pixel_values,
                         image_sizes=image_sizes, do_sample=False, max_new_tokens=N_GREEDY,
                         min_new_tokens=N_GREEDY, return_dict_in_generate=True, output_logits=True,
                         pad_token_id=v["pad_token"], eos_token_id=2)
    toks = gen.sequences[0, ids.shape[1]:].numpy().astype(np.int64)
    raw = torch.stack([l[0] for l in gen.logits]).float()         # raw (unprocessed) logits per step
    assert len(toks) == N_GREEDY
    top2 = torch.topk(raw, 2, dim=-1).values
    margin = (top2[:, 0] - top2[:, 1]).numpy()
    eos_top = (raw.argmax(-1) == 2).numpy().astype(np.int64)
    assert (toks < vt).all(), "greedy picked an extra-vocab row"
    assert (raw.argmax(-1).numpy() == toks).all() or eos_top.any(), "generate deviates from argmax"
    # first generated token also equals argmax of the full-forward last-position logits
    assert int(logits[-1, :vt].argmax()) == int(toks[0]) or eos_top[0]
    ids_np = ids[0].numpy()
    pos = logit_positions(ids_np, v["image_token"])
    sub = vocab_subset(v, 99)
    res = {
        "image_sizes": np.array(img_hw, np.int64),
        "input_ids": ids_np.astype(np.int64),
        "image_features": feats.float().numpy(),
        "logits_positions": pos,
        "logits_vocab_ids": sub,
        "logits_subset": logits[pos][:, sub].numpy(),
        "logits_last": logits[-1].numpy(),
        "greedy_tokens": toks,
        "greedy_margin": margin.astype(np.float32),
        "greedy_eos_was_top1": eos_top,
        "crops_channel_sum": u8.reshape(u8.shape[0], 3, -1).sum(-1).astype(np.int64),
    }
    return res, hs.float().numpy(), proj.float().numpy(), logits


def grid_and_unpadded(model, img_hw, n_img):
    h, w = img_hw
    rows, cols = mln.get_anyres_image_grid_shape((h, w), model.config.image_grid_pinpoints, 336)
    return rows, cols


def load_existing_images(names):
    """--orig-only: the committed PNGs, checked against the generator's drawing (pixels, not bytes)."""
    out = {}
    for name in names:
        w, h, seed = IMAGES[name]
        img = Image.open(FIX / "images" / f"{name}.png").convert("RGB")
        assert np.array_equal(np.asarray(img), np.asarray(make_image(w, h, seed))), name
        out[name] = img
    return out


@torch.no_grad()
def check_committed_hf_folder(folder: Path, model):
    """--orig-only: the committed -hf folder holds exactly the weights this generator builds."""
    m2 = LlavaNextForConditionalGeneration.from_pretrained(folder, torch_dtype=torch.float32,
                                                           attn_implementation="eager").eval()
    a, b = m2.state_dict(), model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"committed {folder.name} differs from the generator at {k}"


# ----------------------------------------------------------------------------------------------
# Multi-turn goldens (--multiturn): images in a later user turn (issue 9 item 3)
# ----------------------------------------------------------------------------------------------
# The llava-hf chat template of llava-v1.6-mistral-7b-hf (images of a message first, one "<image>\n"
# each, then its text; answers " " + text + "</s> "), as published with the llava-hf processors (the
# early "<\\s>" typo fixed, docs/spec.md §6.2). Applied with transformers' apply_chat_template.
CHAT_TEMPLATE_MISTRAL_HF = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}"
    "{{ '[INST] ' }}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}"
    "{{ ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + message['content'][0]['text'] + '</s> ' }}"
    "{% endif %}"
    "{% endfor %}")

# Each scenario: user turns (question, images); every turn but the last is answered with N_TURN_REPLY
# greedy tokens (decoded with sentencepiece: the text a chat keeps), the last with N_GREEDY.
MULTITURN = {
    "img_turn2": [("Hello! Who are you?", []), (QUESTION, ["small_300x200"])],
    "img_turns12": [(QUESTION, ["tall_205x656"]), ("And this one?", ["small_300x200"])],
}
MULTITURN_VARIANTS = {"mistral": ["hf", "orig"], "vicuna": ["hf", "orig"]}
N_TURN_REPLY = 8


def render_orig(v, history, question, n_images):
    """ORIG conversation.py get_prompt (LLAMA_2 / TWO) with each user message "<image>\n" * k + text,
    as cli.py builds the first one; later messages are used as given (docs/spec.md §6.2, §6.3)."""
    msgs = []
    for q, imgs, a in history:
        msgs += [("user", "<image>\n" * len(imgs) + q), ("assistant", a)]
    msgs.append(("user", "<image>\n" * n_images + question))
    if v["template"] == "mistral_instruct":
        ret = ""
        for role, m in msgs:
            ret += f"[INST] {m} [/INST]" if role == "user" else " " + m + " " + "</s>"
        return ret
    assert v["template"] == "llava_v1"
    ret = VICUNA_SYSTEM + " "
    for i, (role, m) in enumerate(msgs):
        ret += ("USER" if role == "user" else "ASSISTANT") + ": " + m + [" ", "</s>"][i % 2]
    return ret + "ASSISTANT:"


def orig_tokenize_chat(v, prompt: str):
    """orig_tokenize for multi-turn prompts: ORIG tokenizes each piece with the HF tokenizer, which maps a
    literal "</s>" (the answers' separator) to EOS and encodes the text around it as fresh sentencepiece
    strings (legacy behaviour, docs/spec.md §6.2/§7.1)."""
    sp = spm.SentencePieceProcessor(model_file=str(SHARED_TOK / v["tokenizer"]))
    out = [sp.bos_id()] if v["add_bos"] else []
    for i, chunk in enumerate(prompt.split("<image>")):
        if i:
            out.append(-200)
        for j, part in enumerate(chunk.split("</s>")):
            if j:
                out.append(sp.eos_id())
            out.extend(sp.encode(part))
    return out


def render_hf(v, tok, history, question, n_images):
    if v["template"] != "mistral_instruct":
        return render_orig(v, history, question, n_images)  # llava_v1: the app renders ORIG's form for both
    msgs = []
    for q, imgs, a in history:
        msgs.append({"role": "user", "content": [{"type": "image"}] * len(imgs) + [{"type": "text", "text": q}]})
        msgs.append({"role": "assistant", "content": [{"type": "text", "text": a}]})
    msgs.append({"role": "user", "content": [{"type": "image"}] * n_images + [{"type": "text", "text": question}]})
    return tok.apply_chat_template(msgs, chat_template=CHAT_TEMPLATE_MISTRAL_HF, tokenize=False)


@torch.no_grad()
def greedy_run(model, v, ids, pixel_values, image_sizes, n_new):
    ids_t = torch.tensor([ids], dtype=torch.long)
    extra = {} if pixel_values is None else dict(pixel_values=pixel_values, image_sizes=image_sizes)
    gen = model.generate(input_ids=ids_t, attention_mask=torch.ones_like(ids_t), do_sample=False,
                         max_new_tokens=n_new, min_new_tokens=n_new, return_dict_in_generate=True,
                         output_logits=True, pad_token_id=v["pad_token"], eos_token_id=2, **extra)
    toks = gen.sequences[0, ids_t.shape[1]:].numpy().astype(np.int64)
    raw = torch.stack([l[0] for l in gen.logits]).float()
    top2 = torch.topk(raw, 2, dim=-1).values
    assert (toks < v["vocab_text"]).all(), "greedy picked an extra-vocab row"
    eos_top = int((raw.argmax(-1) == 2).sum())
    return toks.tolist(), (top2[:, 0] - top2[:, 1]).numpy().tolist(), eos_top


def multiturn_goldens(v, model, tok, images, manifest):
    sp = spm.SentencePieceProcessor(model_file=str(SHARED_TOK / v["tokenizer"]))
    for scenario, turns in MULTITURN.items():
        for flavour in MULTITURN_VARIANTS.get(next(k for k, x in VARIANTS.items() if x is v), []):
            folder = v["folder"] if flavour == "hf" else v["orig_folder"]
            history, out_turns = [], []
            for t, (question, names) in enumerate(turns):
                last = t == len(turns) - 1
                all_names = [n for _, imgs, _ in history for n in imgs] + names
                imgs = [images[n] for n in all_names]
                if flavour == "hf":
                    prompt = render_hf(v, tok, history, question, len(names))
                    proc = LlavaNextProcessor(image_processor=make_image_processor(PINPOINTS), tokenizer=tok,
                                              patch_size=14, vision_feature_select_strategy="default",
                                              num_additional_image_tokens=1, image_token="<image>")
                    enc = proc(images=imgs or None, text=prompt, return_tensors="pt")
                    ids = enc["input_ids"][0].tolist()
                    pv, sizes = (enc["pixel_values"], enc["image_sizes"]) if imgs else (None, None)
                    orig_ids = orig_tokenize_chat(v, prompt)
                    coll = []  # each image's run of image tokens -> one -200 (no two images are adjacent here)
                    for x in ids:
                        if x != v["image_token"]:
                            coll.append(x)
                        elif not coll or coll[-1] != -200:
                            coll.append(-200)
                    counts = image_runs(ids, v["image_token"])
                    assert coll == orig_ids, "HF ids != ORIG tokenizer_image_token ids"
                    toks, margin, eos_top = greedy_run(model, v, ids, pv, sizes, N_GREEDY if last else N_TURN_REPLY)
                    record_ids = ids
                else:
                    prompt = render_orig(v, history, question, len(names))
                    orig_ids = orig_tokenize_chat(v, prompt)
                    model.config.image_grid_pinpoints = PINPOINTS_ORIG_ORDER_FOR_HF
                    try:
                        with OrigUnpad():
                            pvs = [preprocess(im, "orig")[1] for im in imgs]
                            sizes = torch.tensor([[im.size[1], im.size[0]] for im in imgs], dtype=torch.long)
                            pv = None
                            counts = []
                            if imgs:
                                n_max = max(p.shape[0] for p in pvs)
                                pv = torch.zeros(len(pvs), n_max, 3, 336, 336)
                                for k, p in enumerate(pvs):
                                    pv[k, :p.shape[0]] = torch.from_numpy(p)
                                feats = model.model.get_image_features(pv, sizes)
                                counts = [int(f.shape[0]) for f in feats]
                            ids, k = [], 0
                            for x in orig_ids:
                                if x == -200:
                                    ids += [v["image_token"]] * counts[k]
                                    k += 1
                                else:
                                    ids.append(x)
                            toks, margin, eos_top = greedy_run(model, v, ids, pv, sizes,
                                                               N_GREEDY if last else N_TURN_REPLY)
                    finally:
                        model.config.image_grid_pinpoints = PINPOINTS
                    record_ids = orig_ids
                assert eos_top == 0, f"{scenario} {flavour} turn {t + 1}: EOS was the argmax (pick another question)"
                answer = sp.decode(toks)
                assert "</s>" not in answer and "<image>" not in answer, answer
                out_turns.append({"question": question, "images": [f"tests/fixtures/images/{n}.png" for n in names],
                                  "conversation_image_tokens": counts, "prompt": prompt, "input_ids": record_ids,
                                  "seq_len": len(ids), "greedy_tokens": toks, "greedy_margin": margin,
                                  "min_greedy_margin": float(min(margin)), "reply_text": answer})
                history.append((question, names, answer))
                print(f"{folder} {scenario} turn {t + 1}: T {len(ids)} images {counts} tokens {toks[:8]} "
                      f"min margin {min(margin):.4f} reply {answer!r}", flush=True)
            fname = f"{folder}__multiturn_{scenario}.json"
            golden = {"model_folder": f"tests/fixtures/models/{folder}", "flavour": flavour,
                      "template": v["template"], "tokenizer": v["tokenizer"],
                      "reference": (f"transformers {transformers.__version__} LlavaNextForConditionalGeneration fp32 CPU, "
                                    "one generate() per turn on the whole re-rendered conversation"
                                    + ("" if flavour == "hf" else
                                       "; ORIG-emulated (pinpoints in ORIG order, int() unpad, -200 splice)")),
                      "torch": torch.__version__, "turns": out_turns}
            write_json(FIX / "golden" / fname, golden)
            manifest["files"][fname] = {"model_folder": golden["model_folder"], "flavour": flavour,
                                        "template": v["template"], "turns": len(out_turns),
                                        "greedy_tokens": out_turns[-1]["greedy_tokens"],
                                        "min_greedy_margin": min(t["min_greedy_margin"] for t in out_turns)}


def image_runs(ids, image_token):
    """Lengths of the runs of image_token in ids (one per image)."""
    runs, n = [], 0
    for x in ids + [None]:
        if x == image_token:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="mistral,vicuna,yi")
    ap.add_argument("--orig-only", action="store_true",
                    help="write only the ORIG folders and ORIG golden files; the committed -hf folder is the "
                         "reference model and images/, crops/, -hf folders and -hf golden files stay untouched")
    ap.add_argument("--multiturn", action="store_true",
                    help="write only the multi-turn goldens (golden/<folder>__multiturn_*.json) and their manifest "
                         "entries, with the committed folders and images as they are (checked, never rewritten)")
    args = ap.parse_args()
    only = args.only.split(",")
    print(f"torch {torch.__version__}  transformers {transformers.__version__}", flush=True)
    (FIX / "golden").mkdir(parents=True, exist_ok=True)
    (FIX / "golden" / "crops").mkdir(parents=True, exist_ok=True)
    manifest_path = FIX / "golden" / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["generator"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                             "numpy": np.__version__, "pillow": Image.__version__}
    manifest.setdefault("files", {})

    if args.multiturn:
        for key in only:
            if key not in MULTITURN_VARIANTS:
                continue
            v = VARIANTS[key]
            tok, _ = make_tokenizer(v)
            torch.manual_seed(v["seed"])
            model = LlavaNextForConditionalGeneration(build_config(v, PINPOINTS)).eval()
            init_weights(model, v, v["seed"])
            folder = FIX / "models" / v["folder"]
            check_committed_hf_folder(folder, model)
            model = LlavaNextForConditionalGeneration.from_pretrained(folder, torch_dtype=torch.float32,
                                                                      attn_implementation="eager").eval()
            names = sorted({n for turns in MULTITURN.values() for _, imgs in turns for n in imgs})
            multiturn_goldens(v, model, tok, load_existing_images(names), manifest)
            write_json(manifest_path, manifest)
        return

    for key in only:
        v = VARIANTS[key]
        if args.orig_only and not v.get("orig_folder"):
            continue
        images = load_existing_images(v["images"]) if args.orig_only else load_or_make_images(v["images"])
        tok, tok_path = make_tokenizer(v)
        torch.manual_seed(v["seed"])
        cfg = build_config(v, PINPOINTS)
        model = LlavaNextForConditionalGeneration(cfg).eval()
        init_weights(model, v, v["seed"])
        if args.orig_only:
            folder = FIX / "models" / v["folder"]
            check_committed_hf_folder(folder, model)
        else:
            folder = save_hf_folder(model, cfg, v, tok_path)
        # reload the saved folder with transformers and use THAT model as the reference
        model = LlavaNextForConditionalGeneration.from_pretrained(folder, torch_dtype=torch.float32,
                                                                  attn_implementation="eager").eval()
        orig_ids = orig_tokenize(v, v["prompt"])
        flavours = ([] if args.orig_only else ["hf"]) + (["orig"] if v.get("orig_folder") else [])
        if v.get("orig_folder"):
            ofolder = save_orig_folder(model, v, tok_path)
            verify_orig_folder(ofolder, model, v)
        for img_name in v["images"]:
            img = images[img_name]
            W, H = img.size
            for flavour in flavours:
                if flavour == "orig" and img_name not in v.get("orig_images", v["images"]):
                    continue
                u8, pv = preprocess(img, flavour)
                crops_flavour = flavour
                if flavour == "orig":
                    u8_hf, _ = preprocess(img, "hf")
                    if np.array_equal(u8_hf, u8):
                        crops_flavour = "hf"  # identical crops: no separate ORIG png
                crops_png = FIX / "golden" / "crops" / f"{img_name}__{crops_flavour}.png"
                if not crops_png.exists():
                    save_crops_png(u8, crops_png)
                if flavour == "hf":
                    proc = LlavaNextProcessor(image_processor=make_image_processor(PINPOINTS), tokenizer=tok,
                                              patch_size=14, vision_feature_select_strategy="default",
                                              num_additional_image_tokens=1, image_token="<image>")
                    enc = proc(images=img, text=v["prompt"], return_tensors="np")
                    ids = enc["input_ids"][0].tolist()
                    assert np.array_equal(enc["pixel_values"][0], pv)
                    assert enc["image_sizes"][0].tolist() == [H, W]
                    # collapsing the image run must give the ORIG ids (docs/spec.md §7.2)
                    coll = []
                    for t in ids:
                        if t == v["image_token"]:
                            if not coll or coll[-1] != -200:
                                coll.append(-200)
                        else:
                            coll.append(t)
                    assert coll == orig_ids, (coll, orig_ids)
                    res, hs, proj, logits = run_reference(model, v, u8, pv, ids, [H, W], flavour, True)
                else:
                    # ORIG emulation: pinpoints iterated in ORIG order, int() unpad, -200 splice.
                    model.config.image_grid_pinpoints = PINPOINTS_ORIG_ORDER_FOR_HF
                    try:
                        with OrigUnpad():
                            n_img = model.model.get_image_features(torch.from_numpy(pv)[None],
                                                                   torch.tensor([[H, W]]))[0].shape[0]
                            k = orig_ids.index(-200)
                            ids = orig_ids[:k] + [v["image_token"]] * n_img + orig_ids[k + 1:]
                            res, hs, proj, logits = run_reference(model, v, u8, pv, ids, [H, W], flavour, True)
                    finally:
                        model.config.image_grid_pinpoints = PINPOINTS
                    res["input_ids"] = np.array(orig_ids, np.int64)
                    vt = v["vocab_text"]
                    res["logits_last"] = res["logits_last"][:vt]
                    res["logits_vocab_ids"] = res["logits_vocab_ids"][res["logits_vocab_ids"] < vt]
                    keep = np.isin(vocab_subset(v, 99), res["logits_vocab_ids"])
                    res["logits_subset"] = res["logits_subset"][:, keep]
                n_crops = u8.shape[0]
                rows, cols = (mln.get_anyres_image_grid_shape(
                    (H, W), PINPOINTS if flavour == "hf" else PINPOINTS_ORIG_ORDER_FOR_HF, 336))
                n_img = int(res["image_features"].shape[0])
                dummy = torch.zeros(1, rows * 24, cols * 24)
                if flavour == "hf":
                    hp, wp = mln.unpad_image(dummy, [H, W]).shape[1:]
                else:
                    with OrigUnpad():
                        hp, wp = mln.unpad_image(dummy, [H, W]).shape[1:]
                assert n_img == 576 + hp * wp + hp
                res["grid_rows_cols"] = np.array([rows, cols], np.int64)
                res["unpadded_hw"] = np.array([hp, wp], np.int64)
                res["n_image_tokens"] = np.array([n_img], np.int64)
                if v["full_debug"] and ((flavour == "hf" and img_name in v["debug_images"]) or crops_flavour == "orig"):
                    res["vision_hidden"] = hs
                    res["projector_out"] = proj[:1]
                model_folder = v["folder"] if flavour == "hf" else v["orig_folder"]
                fname = f"{model_folder}__{img_name}.safetensors"
                meta = {"model_folder": f"tests/fixtures/models/{model_folder}", "image": f"tests/fixtures/images/{img_name}.png",
                        "crops_png": f"tests/fixtures/golden/crops/{img_name}__{crops_flavour}.png",
                        "flavour": flavour, "prompt": v["prompt"], "template": v["template"],
                        "tokenizer": v["tokenizer"], "image_token_id": str(v["image_token"] if flavour == "hf" else -200),
                        "reference": (f"transformers {transformers.__version__} LlavaNextForConditionalGeneration fp32 CPU"
                                      if flavour == "hf" else
                                      f"ORIG-emulated on transformers {transformers.__version__} (pinpoints in ORIG order, int() unpad, -200 splice)"),
                        "torch": torch.__version__}
                res = {k: np.ascontiguousarray(a) for k, a in res.items()}
                np_save_file(res, str(FIX / "golden" / fname), metadata=meta)
                manifest["files"][fname] = {**meta, "n_crops": n_crops, "seq_len": int(len(ids)),
                                            "n_image_tokens": n_img, "grid_rows_cols": [rows, cols],
                                            "unpadded_hw": [hp, wp],
                                            "greedy_tokens": res["greedy_tokens"].tolist(),
                                            "min_greedy_margin": float(res["greedy_margin"].min()),
                                            "eos_was_top1_steps": int(res["greedy_eos_was_top1"].sum())}
                print(f"{fname}: crops {n_crops} grid {rows}x{cols} N {n_img} H'W' {hp}x{wp} T {len(ids)} "
                      f"min margin {res['greedy_margin'].min():.4f} eos-top1 {res['greedy_eos_was_top1'].sum()} "
                      f"tokens {res['greedy_tokens'][:8].tolist()}", flush=True)
                # self-check: a fresh reload of the folder reproduces the recorded logits
                if flavour == "hf":
                    check_reload(folder, v, ids, pv, [H, W], logits)
        write_json(manifest_path, manifest)


@torch.no_grad()
def check_reload(folder, v, ids, pv, hw, logits):
    m2 = LlavaNextForConditionalGeneration.from_pretrained(folder, torch_dtype=torch.float32,
                                                           attn_implementation="eager").eval()
    out = m2(input_ids=torch.tensor([ids]), pixel_values=torch.from_numpy(pv)[None],
             image_sizes=torch.tensor([hw]), use_cache=False).logits[0]
    d = (out - logits).abs().max().item()
    assert d == 0.0 or d < 1e-5, d


def verify_orig_folder(ofolder, model, v):
    """The ORIG folder maps back (HF converter renames, docs/spec.md §2.4) onto the HF model bit-exactly."""
    sd = load_file(str(ofolder / "model.safetensors"))
    ref = {hf_legacy_name(k): t for k, t in f16_state(model).items()}
    assert len(sd) == len(ref)
    for k, t in sd.items():
        hk = hf_converter_rename(k)
        r = ref[hk]
        if t.shape != r.shape:
            r = r[:t.shape[0]]
        assert torch.equal(t, r), k


if __name__ == "__main__":
    main()
