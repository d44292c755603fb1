#!/usr/bin/env python3
"""Writes tests/text/golden_text.json: reference token ids for the text-stage tests.

Run by hand (never by the build):
    python3 -m venv tests/text/.venv && tests/text/.venv/bin/pip install -r tests/text/requirements.txt
    tests/text/.venv/bin/python tests/text/gen_goldens.py

References: plain ids from Python sentencepiece; ids with special tokens from transformers'
LlamaTokenizerFast (Mistral, as ORIG loads it) / LlamaTokenizer (Llama-2, Yi; use_fast=False as ORIG);
chat renderings re-implemented here from llava/conversation.py (spec 5.1-5.3) and tokenized with
ORIG's tokenizer_image_token algorithm (spec 5.4); decode strings from sentencepiece's decode.
"""
import json
import os
import sys

import sentencepiece as spm
import transformers
from transformers import LlamaTokenizer, LlamaTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
TOKDIR = os.path.join(HERE, "..", "..", "..", "shared", "assets", "tokenizers")
MODELS = {
    "mistral": ("mistral-7b-v0.1.model", {}),
    "llama2": ("llama-2.model", {}),
    "yi": ("yi-34b.model", dict(bos_token="<|startoftext|>", eos_token="<|endoftext|>", unk_token="<unk>")),
}
STRINGS = [
    "", " ", "  lead", "trailing  ", "\n", "a\n\nb", "\n\nIs", "12345678901234567890", "3.14159 and 2,718",
    "Hello world", "  multiple   spaces  ", "\t tab", "你好，世界", "ꙮ𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "😀👍🏽🇩🇪", "Ünïcödé façade",
    "</s>", "<s>[INST] hi", "x</s>y", "A1 </s>[INST] Q2 [/INST]", "<unk>", "<|im_start|>user\nhi<|im_end|>",
    "<|im_end|><|im_start|>user\n", "<|endoftext|>", "<|startoftext|>Hi", "<0x0A>", "\u2581literal",
    "[INST] <image>\nIs there any person in this photo [/INST]",
]
IMAGE_PROMPTS = ["", "Describe the image.", "你好 😀 what is this?\nAnswer briefly."]

VICUNA_LLAVA = ("A chat between a curious human and an artificial intelligence assistant. The assistant gives "
                "helpful, detailed, and polite answers to the human's questions.")
VICUNA_V1 = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives "
             "helpful, detailed, and polite answers to the user's questions.")
LLAVA_LLAMA2 = ("You are a helpful language and vision assistant. You are able to understand the visual content "
                "that the user provides, and assist the user with a variety of tasks using natural language.")


def load(name):
    file, extra = MODELS[name]
    path = os.path.join(TOKDIR, file)
    sp = spm.SentencePieceProcessor(model_file=path)
    slow = LlamaTokenizer(vocab_file=path, legacy=True, **extra)
    hf = slow
    if name == "mistral":
        hf = LlamaTokenizerFast(vocab_file=path, legacy=True, from_slow=True, **extra)
    return sp, slow, hf


def render(template, turns, n_images, flavour="orig", system=None):
    """Port of conversation.py get_prompt for the styles we use; turns = [(role, text)], pending reply if
    the last turn is the user's."""
    msgs = [(r, t) for r, t in turns]
    msgs[0] = (msgs[0][0], "<image>\n" * n_images + msgs[0][1])
    if template in ("mistral_instruct", "llava_llama_2"):
        sys_text = {"mistral_instruct": "", "llava_llama_2": LLAVA_LLAMA2}[template] if system is None else system
        sep = "" if template == "mistral_instruct" else "<s>"
        wrap_sys = lambda m: f"<<SYS>>\n{m}\n<</SYS>>\n\n" if len(m) > 0 else m
        ret = ""
        for i, (role, message) in enumerate(msgs):
            if i == 0:
                message = wrap_sys(sys_text) + message
            if role == "user":
                ret += (sep if flavour == "orig" else "") + f"[INST] {message} [/INST]"
            else:
                ret += (" " + message + " " + "</s>") if flavour == "orig" else (" " + message + "</s> ")
        return ret[len(sep):] if sep and ret.startswith(sep) else ret
    if template in ("llava_v1", "vicuna_v1"):
        ret = (VICUNA_LLAVA if template == "llava_v1" else VICUNA_V1) if system is None else system
        ret += " "
        seps = [" ", "</s>"]
        for i, (role, message) in enumerate(msgs):
            ret += ("USER" if role == "user" else "ASSISTANT") + ": " + message + seps[i % 2]
        if msgs[-1][0] == "user":
            ret += "ASSISTANT:"
        return ret
    if template == "chatml_direct":
        ret = "<|im_start|>system\n" + ("Answer the questions." if system is None else system) + "<|im_end|>"
        for role, message in msgs:
            ret += ("<|im_start|>user\n" if role == "user" else "<|im_start|>assistant\n") + message + "<|im_end|>"
        if msgs[-1][0] == "user":
            ret += "<|im_start|>assistant\n"
        return ret
    raise ValueError(template)


def tokenizer_image_token(tok, prompt, add_bos):
    """ORIG llava/mm_utils.py algorithm (spec 5.4), placeholder -200."""
    chunks = [tok(c, add_special_tokens=add_bos).input_ids for c in prompt.split("<image>")]
    out, offset = [], 0
    if add_bos and chunks and chunks[0] and chunks[0][0] == tok.bos_token_id:
        offset = 1
        out.append(chunks[0][0])
    for i, c in enumerate(chunks):
        if i > 0:
            out.append(-200)
        out.extend(c[offset:])
    return out


def main():
    gold = {"generator": "tests/text/gen_goldens.py",
            "versions": {"sentencepiece": spm.__version__, "transformers": transformers.__version__},
            "encode": [], "chats": [], "decode": []}
    for name in MODELS:
        sp, slow, hf = load(name)
        for text in STRINGS:
            ids = hf(text, add_special_tokens=False).input_ids
            if slow(text, add_special_tokens=False).input_ids != ids:
                sys.exit(f"slow/fast disagree for {name} {text!r}")
            gold["encode"].append({"model": name, "text": text, "ids": ids, "plainIds": sp.encode(text)})
    chats = []
    for template, model in [("mistral_instruct", "mistral"), ("llava_v1", "llama2"), ("vicuna_v1", "llama2"),
                            ("llava_llama_2", "llama2"), ("chatml_direct", "yi")]:
        for q in ["Is there any person in this photo", "What is shown in this image?"]:
            chats.append((template, model, [("user", q)], 1, "orig", None))
        chats.append((template, model, [("user", "Q1"), ("assistant", "A1"), ("user", "Q2 你好")], 1, "orig", None))
        chats.append((template, model, [("user", "Two pictures?"), ("assistant", "Yes.")], 2, "orig", None))
        chats.append((template, model, [("user", "No image here")], 0, "orig", "Be brief."))
    chats.append(("mistral_instruct", "mistral", [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")], 1, "hf", None))
    for template, model, turns, n_images, flavour, system in chats:
        _, _, hf = load(model)
        text = render(template, turns, n_images, flavour, system)
        add_bos = model != "yi"  # Yi: add_bos_token is read from the checkpoint; tested without BOS here
        gold["chats"].append({"template": template, "model": model, "flavour": flavour, "nImages": n_images,
                              "system": system, "turns": [[r, t] for r, t in turns], "rendered": text,
                              "addBos": add_bos, "origIds": tokenizer_image_token(hf, text, add_bos)})
    for name in MODELS:
        sp, _, _ = load(name)
        seqs = [sp.encode(s) for s in STRINGS if "<" not in s]
        seqs += [[sp.bos_id()] + sp.encode("ꙮ 你好 𝔘") + [sp.eos_id()]]
        byte = lambda b: sp.piece_to_id(f"<0x{b:02X}>")
        seqs += [[byte(0xE4), byte(0xBD)] + sp.encode("x"), [byte(0xC0), byte(0x80)], [byte(0xED), byte(0xA0), byte(0x80)],
                 [byte(0xF0), byte(0x9F), byte(0x98)], [byte(0xE4), sp.eos_id(), byte(0xBD), byte(0xA0)],
                 [byte(0xF0), byte(0x9F), byte(0x98), byte(0x80), byte(0x41)], [byte(0xFF), byte(0xE4), byte(0xBD), byte(0xA0)]]
        for ids in seqs:
            assert sp.unk_id() not in ids  # the detokenizer skips unk; sentencepiece would print " \u2047 "
            gold["decode"].append({"model": name, "ids": ids, "text": sp.decode(ids)})
    with open(os.path.join(HERE, "golden_text.json"), "w", encoding="utf-8") as f:
        json.dump(gold, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
