#!/usr/bin/env python3
"""Writes tests/fixtures/golden/labels/training_labels.json: the stage-2 training labels of the ORIGINAL
LLaVA code (llava/train/train.py preprocess_* via preprocess(), IGNORE_INDEX = -100) for several multi-turn
conversations, every chat template and the real tokenizers. tst_traininglabels compares our
computeTrainingLabels() with it id for id and label for label.

Run by hand (never by the build), in the venv described in requirements-orig.txt:
    /work/venvs/orig/bin/python tests/reference/gen_labels.py

What is called is the original code itself: llava.train.train.preprocess_multimodal (moves "<image>" to the
front of a message, as the training data loader does) and llava.train.train.preprocess, with
llava.conversation.default_conversation set to the template exactly as train() does
(conversation_lib.conv_templates[model_args.version]). Nothing of preprocess is re-implemented here.
The tokenizer is the one train() builds: a slow LlamaTokenizer (use_fast=False), padding_side "right",
model_max_length as given, pad_token = unk_token (every version except v0). It is built from the shared
tokenizer.model files (no hub access); `legacy` is set explicitly per case because the checkpoints'
tokenizer_config.json decide it and it changes both the ids and preprocess_v1/_mpt's length corrections.

If importing llava.train.train fails on an optional dependency that preprocess never uses (flash_attn,
deepspeed, ...), that module is stubbed in sys.modules (see STUBBED below, recorded in the golden's metadata).

The original code prints "WARNING: tokenization mismatch: A vs. B. (ignored)" and masks every label when its
round arithmetic does not add up to the tokenized length; that output is captured and recorded per case
("mismatch"), the labels are kept exactly as the code returned them.
"""
import contextlib
import hashlib
import importlib
import io
import json
import os
import re
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TOKDIR = os.path.normpath(os.path.join(ROOT, "..", "shared", "assets", "tokenizers"))
OUT = os.path.join(ROOT, "tests", "fixtures", "golden", "labels", "training_labels.json")

STUBBED = []


def import_train():
    """llava.train.train, stubbing optional modules that fail to import (none expected)."""
    for _ in range(8):
        try:
            return importlib.import_module("llava.train.train")
        except ModuleNotFoundError as e:  # an optional dependency preprocess does not use
            name = e.name
            if name is None or name.startswith("llava") or name in STUBBED:
                raise
            sys.modules[name] = types.ModuleType(name)
            STUBBED.append(name)
    raise RuntimeError("too many missing modules: %s" % STUBBED)


import torch  # noqa: E402
import transformers  # noqa: E402
import tokenizers  # noqa: E402
from transformers import LlamaTokenizer  # noqa: E402

train = import_train()
from llava import conversation as conversation_lib  # noqa: E402
import llava  # noqa: E402

TOKENIZERS = {
    "mistral": ("mistral-7b-v0.1.model", {}),
    "llama2": ("llama-2.model", {}),
    # Yi: <|startoftext|>/<|endoftext|> are its BOS/EOS pieces; add_bos_token false as in the tiny 34b fixture
    # folders (tests/fixtures/README.md); <|im_start|>/<|im_end|> are user-defined pieces of the .model.
    "yi": ("yi-34b.model", dict(bos_token="<|startoftext|>", eos_token="<|endoftext|>", unk_token="<unk>",
                                add_bos_token=False)),
}

# (name, template, tokenizer, legacy, model_max_length, system or None, turns [(role, text, images)])
# role: "human" / "gpt" as in LLaVA's data files; images: how many "<image>" markers the message carries.
IMG = "What is in this picture?"
CASES = []


def add(name, template, tok, turns, legacy=True, max_len=2048, system=None, bos=None):
    CASES.append(dict(name=name, template=template, tokenizer=tok, legacy=legacy, model_max_length=max_len,
                      system=system, bos=bos, turns=[dict(role=r, text=t, images=i) for r, t, i in turns]))


MULTI = [("human", IMG, 1), ("gpt", "A red car parked on a street.", 0),
         ("human", "What colour are its wheels?", 0), ("gpt", "They are black, with silver rims.", 0),
         ("human", "Is it raining?\nAnswer briefly.", 0), ("gpt", "No.", 0)]
TEXT_ONLY = [("human", "Say hello in French.", 0), ("gpt", "Bonjour !", 0),
             ("human", "And in Chinese?", 0), ("gpt", "你好 😀", 0)]
SPACES = [("human", "   spaced question with the image   ", 1), ("gpt", "  answer with spaces  ", 0)]
EMPTY_Q = [("human", "", 1), ("gpt", "A picture of a cat.", 0)]

for tpl, tok in [("mistral_instruct", "mistral"), ("llava_v1", "llama2"), ("vicuna_v1", "llama2"),
                 ("llava_llama_2", "llama2"), ("chatml_direct", "yi")]:
    add(tpl + "/one_image", tpl, tok, MULTI[:2])
    add(tpl + "/multi_turn_image", tpl, tok, MULTI)
    add(tpl + "/text_only", tpl, tok, TEXT_ONLY)
    add(tpl + "/image_spaces", tpl, tok, SPACES)
    add(tpl + "/image_no_question", tpl, tok, EMPTY_Q)
# Non-legacy tokenizers (transformers >= 4.33 default when tokenizer_config.json says "legacy": false):
# preprocess_v1 then subtracts one token per later round; preprocess_mpt only corrects legacy ones.
for tpl, tok in [("llava_v1", "llama2"), ("mistral_instruct", "mistral"), ("chatml_direct", "yi")]:
    add(tpl + "/multi_turn_image_nonlegacy", tpl, tok, MULTI, legacy=False)
    add(tpl + "/text_only_nonlegacy", tpl, tok, TEXT_ONLY, legacy=False)
# A custom system prompt (the app's setting), Llama-2 style <<SYS>> block and TWO's system slot.
add("mistral_instruct/system_prompt", "mistral_instruct", "mistral", MULTI[:4], system="Answer in one sentence.")
add("llava_v1/system_prompt", "llava_v1", "llama2", MULTI[:4], system="Be terse.")
# An answer containing the instruction separator: rou.split(sep) has 3 parts -> the loop breaks early.
add("llava_v1/answer_contains_separator", "llava_v1", "llama2",
    [("human", IMG, 1), ("gpt", "I am the ASSISTANT: yes I am.", 0),
     ("human", "Sure?", 0), ("gpt", "Yes.", 0)])
add("mistral_instruct/answer_contains_separator", "mistral_instruct", "mistral",
    [("human", IMG, 1), ("gpt", "Type [/INST] to end.", 0), ("human", "Sure?", 0), ("gpt", "Yes.", 0)])
# model_max_length: text-only conversations are truncated by the tokenizer; the mismatch check is skipped
# when the rounds reach the limit.
add("llava_v1/text_truncated", "llava_v1", "llama2", TEXT_ONLY, max_len=40)
add("llava_v1/image_long", "llava_v1", "llama2", MULTI, max_len=40)
add("mistral_instruct/text_truncated", "mistral_instruct", "mistral", TEXT_ONLY, max_len=30)
# Stage 1 (plain): "<image>" + caption + "\n"; the question is dropped by preprocess_plain.
# Yi with add_bos_token true (a checkpoint whose tokenizer_config says so): does the MPT arithmetic add up then?
add("chatml_direct/multi_turn_image_bos", "chatml_direct", "yi", MULTI, bos=True)
add("chatml_direct/text_only_bos", "chatml_direct", "yi", TEXT_ONLY, bos=True)
add("plain/caption", "plain", "llama2", [("human", "Describe the image briefly.", 1),
                                        ("gpt", "A red car parked on a street.", 0)])
add("plain/caption_mistral", "plain", "mistral", [("human", "", 1), ("gpt", "Two cats on a sofa.", 0)])


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_tokenizer(name, legacy, max_len, bos=None):
    file, extra = TOKENIZERS[name]
    if bos is not None:
        extra = dict(extra, add_bos_token=bos)
    # As train(): AutoTokenizer.from_pretrained(..., model_max_length, padding_side="right", use_fast=False)
    tok = LlamaTokenizer(vocab_file=os.path.join(TOKDIR, file), legacy=legacy, model_max_length=max_len,
                         padding_side="right", **extra)
    tok.pad_token = tok.unk_token  # train(): every version other than v0 / v0.5
    return tok


class DataArgs:  # the two fields preprocess_multimodal reads (v1.6: no <im_start>/<im_end> tokens)
    is_multimodal = True
    mm_use_im_start_end = False


def run_case(case):
    conversation_lib.default_conversation = conversation_lib.conv_templates[case["template"]]
    if case["system"] is not None:
        conv = conversation_lib.default_conversation.copy()
        conv.system = case["system"]
        conversation_lib.default_conversation = conv
    tok = make_tokenizer(case["tokenizer"], case["legacy"], case["model_max_length"], case["bos"])
    source = []
    for t in case["turns"]:
        value = "<image>\n" * t["images"] + t["text"]
        source.append({"from": t["role"], "value": value})
    has_image = any(t["images"] for t in case["turns"])
    sources = [source]
    if has_image:  # LazySupervisedDataset.__getitem__ only runs this for samples with an image
        sources = train.preprocess_multimodal(sources, DataArgs())
    values_after_multimodal = [s["value"] for s in sources[0]]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        data = train.preprocess(sources, tok, has_image=has_image)
    printed = out.getvalue()
    m = re.search(r"tokenization mismatch: (\d+) vs\. (\d+)", printed)
    ids = data["input_ids"][0].tolist()
    labels = data["labels"][0].tolist()
    style = conversation_lib.default_conversation.sep_style.name
    version = conversation_lib.default_conversation.version
    fn = {"PLAIN": "preprocess_plain", "LLAMA_2": "preprocess_llama_2"}.get(style)
    if fn is None:
        fn = "preprocess_v1" if version.startswith("v1") else ("preprocess_mpt" if version == "mpt" else "preprocess")
    rendered = None
    if style != "PLAIN":
        conv = conversation_lib.default_conversation.copy()
        conv.messages = []
        for s in sources[0]:
            conv.append_message(conv.roles[0] if s["from"] == "human" else conv.roles[1], s["value"])
        rendered = conv.get_prompt()
    result = dict(case)
    result.update(preprocess=fn, has_image=has_image, add_bos=bool(tok.add_bos_token),
                  tokenizer_file=TOKENIZERS[case["tokenizer"]][0],
                  tokenizer_sha256=sha256(os.path.join(TOKDIR, TOKENIZERS[case["tokenizer"]][0])),
                  messages=values_after_multimodal, conversation=rendered, input_ids=ids, labels=labels,
                  mismatch=bool(m), mismatch_lengths=[int(m.group(1)), int(m.group(2))] if m else None,
                  learned=sum(1 for x in labels if x != -100))
    return result


def main():
    results = [run_case(c) for c in CASES]
    meta = dict(generator="tests/reference/gen_labels.py", llava_torch=getattr(llava, "__version__", "1.2.2.post1"),
                llava_file=os.path.relpath(train.__file__, os.path.dirname(os.path.dirname(llava.__file__))),
                transformers=transformers.__version__, tokenizers=tokenizers.__version__, torch=torch.__version__,
                stubbed_modules=STUBBED, ignore_index=-100, image_token_index=-200,
                note="input_ids/labels exactly as llava.train.train.preprocess returned them")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(dict(meta=meta, cases=results), f, ensure_ascii=False, indent=1)
        f.write("\n")
    for r in results:
        print("%-48s %-18s ids %4d learned %3d%s" % (r["name"], r["preprocess"], len(r["input_ids"]), r["learned"],
                                                    "  MISMATCH %s" % r["mismatch_lengths"] if r["mismatch"] else ""))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
