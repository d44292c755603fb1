#!/usr/bin/env python3
"""Multi-turn goldens from the ORIGINAL LLaVA code (developer tool, not product).

Runs haotian-liu/LLaVA as published on PyPI (llava-torch 1.2.2.post1) on the committed tiny ORIG folders
(tests/fixtures/models/llava-v1.6-{mistral,vicuna}-tiny) and writes
tests/fixtures/golden/<folder>__multiturn_<scenario>__origcode.json (same format as gen_fixtures.py
--multiturn) plus manifest entries. The chat is driven the way llava/serve/cli.py drives it: each user
message with images is "<image>\\n" * k + text (cli.py's form, used for every turn that has images),
conv.get_prompt(), tokenizer_image_token, process_images over all images so far, model.generate(images=...,
image_sizes=...). The reply kept in the conversation is the sentencepiece decode of the generated ids (the
text the app keeps; cli.py keeps tokenizer.decode(...).strip(), whose "</s>" quirk docs/spec.md §10 says is not copied).

Environment (its own venv; nothing here is needed to build or test the project):
    python3 -m venv /work/venvs/orig
    /work/venvs/orig/bin/pip install torch==2.1.2 transformers==4.36.2 tokenizers==0.15.0 sentencepiece==0.1.99 \\
        accelerate==0.21.0 einops==0.6.1 'Pillow<11' numpy==1.26.4
    /work/venvs/orig/bin/pip install --no-deps llava-torch==1.2.2.post1
    /work/venvs/orig/bin/python tests/reference/gen_orig_multiturn.py
Offline adaptations (the only ones): the CLIP tower is built from the folder's `vision_config` instead of
downloading openai/clip-vit-large-patch14-336 (its weights come from the folder like every other tensor), the
image processor is CLIPImageProcessor with that checkpoint's published preprocessing values, and the
tokenizer is the shared .model through the slow LlamaTokenizer (legacy, as ORIG's checkpoints load it). fp32
on the CPU (ORIG's fp16 GPU compute is not reproduced).
"""
import hashlib
import json
import sys
from pathlib import Path

import torch
import sentencepiece as spm
import transformers
from PIL import Image
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, LlamaTokenizer

import llava
from llava.constants import IMAGE_TOKEN_INDEX
from llava.conversation import conv_templates
from llava.mm_utils import process_images, tokenizer_image_token
from llava.model.multimodal_encoder import clip_encoder

torch.set_num_threads(2)
ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
SHARED_TOK = ROOT.parent / "shared" / "assets" / "tokenizers"
if not SHARED_TOK.is_dir():
    SHARED_TOK = Path("/work/shared/assets/tokenizers")

QUESTION = "What is in this picture?"
SCENARIOS = {  # the same chats as gen_fixtures.py MULTITURN
    "img_turn2": [("Hello! Who are you?", []), (QUESTION, ["small_300x200"])],
    "img_turns12": [(QUESTION, ["tall_205x656"]), ("And this one?", ["small_300x200"])],
}
MODELS = {
    "mistral": dict(folder="llava-v1.6-mistral-tiny", template="mistral_instruct", tokenizer="mistral-7b-v0.1.model",
                    cls="LlavaMistralForCausalLM",
                    sha="dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"),
    "vicuna": dict(folder="llava-v1.6-vicuna-tiny", template="llava_v1", tokenizer="llama-2.model",
                   cls="LlavaLlamaForCausalLM",
                   sha="9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347"),
}
N_TURN_REPLY, N_LAST = 8, 32
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def offline_load_model(self, device_map=None):
    """CLIPVisionTower.load_model without the hub: the tiny tower's shape from the folder's vision_config."""
    if self.is_loaded:
        return
    cfg = CLIPVisionConfig(**OFFLINE_VISION_CONFIG)
    self.image_processor = CLIPImageProcessor(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336},
                                              do_center_crop=True, resample=3, do_rescale=True,
                                              rescale_factor=1 / 255, do_normalize=True, image_mean=CLIP_MEAN,
                                              image_std=CLIP_STD, do_convert_rgb=True)
    self.vision_tower = CLIPVisionModel(cfg)
    self.vision_tower.requires_grad_(False)
    self.is_loaded = True


OFFLINE_VISION_CONFIG = {}
clip_encoder.CLIPVisionTower.load_model = offline_load_model


@torch.no_grad()
def image_tokens(model, image_processor, image):
    """Rows ORIG's prepare_inputs_labels_for_multimodal splices for one image (BOS + one placeholder)."""
    ids = torch.tensor([[1, IMAGE_TOKEN_INDEX]])
    embeds = model.prepare_inputs_labels_for_multimodal(ids, None, None, None, None,
                                                        process_images([image], image_processor, model.config),
                                                        image_sizes=[image.size])[4]
    return int(embeds.shape[1]) - 1


def main():
    manifest_path = FIX / "golden" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    print(f"llava-torch {getattr(llava, '__version__', '1.2.2.post1')} torch {torch.__version__} "
          f"transformers {transformers.__version__}", flush=True)
    for key in sys.argv[1:] or list(MODELS):
        m = MODELS[key]
        folder = FIX / "models" / m["folder"]
        cfg = json.loads((folder / "config.json").read_text())
        OFFLINE_VISION_CONFIG.clear()
        OFFLINE_VISION_CONFIG.update({k: cfg["vision_config"][k] for k in (
            "hidden_size", "intermediate_size", "num_attention_heads", "num_hidden_layers", "image_size",
            "patch_size", "hidden_act", "layer_norm_eps")})
        OFFLINE_VISION_CONFIG["projection_dim"] = cfg["vision_config"]["hidden_size"]
        tok_path = SHARED_TOK / m["tokenizer"]
        assert hashlib.sha256(tok_path.read_bytes()).hexdigest() == m["sha"], tok_path
        tokenizer = LlamaTokenizer(vocab_file=str(tok_path), legacy=True)
        sp = spm.SentencePieceProcessor(model_file=str(tok_path))
        cls = getattr(llava.model, m["cls"])
        model = cls.from_pretrained(folder, torch_dtype=torch.float32).eval()
        # every tensor of the folder was loaded (the tower included): compare one CLIP weight with the file
        from safetensors.torch import load_file
        stored = load_file(str(folder / "model.safetensors"))
        name = "model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"
        assert torch.equal(model.state_dict()[name], stored[name].float()), "CLIP weights not loaded from the folder"
        image_processor = model.get_vision_tower().image_processor
        for scenario, turns in SCENARIOS.items():
            conv = conv_templates[m["template"]].copy()
            images, out_turns = [], []
            for t, (question, names) in enumerate(turns):
                last = t == len(turns) - 1
                images += [Image.open(FIX / "images" / f"{n}.png").convert("RGB") for n in names]
                conv.append_message(conv.roles[0], "<image>\n" * len(names) + question)
                conv.append_message(conv.roles[1], None)
                prompt = conv.get_prompt()
                ids = tokenizer_image_token(prompt, tokenizer, IMAGE_TOKEN_INDEX, return_tensors="pt").unsqueeze(0)
                kwargs = {}
                if images:
                    kwargs = dict(images=process_images(images, image_processor, model.config),
                                  image_sizes=[im.size for im in images])
                n_new = N_LAST if last else N_TURN_REPLY
                with torch.inference_mode():
                    out = model.generate(ids, do_sample=False, max_new_tokens=n_new, min_new_tokens=n_new,
                                         use_cache=True, output_scores=True, return_dict_in_generate=True,
                                         pad_token_id=0, **kwargs)
                toks = out.sequences[0].tolist()[-n_new:]
                scores = torch.stack([s[0] for s in out.scores]).float()
                top2 = torch.topk(scores, 2, dim=-1).values
                margin = (top2[:, 0] - top2[:, 1]).tolist()
                assert len(toks) == n_new and int((scores.argmax(-1) == 2).sum()) == 0, "EOS was an argmax"
                assert scores.argmax(-1).tolist() == toks
                counts = [image_tokens(model, image_processor, im) for im in images]
                answer = sp.decode(toks)
                conv.messages[-1][-1] = answer
                out_turns.append({"question": question, "images": [f"tests/fixtures/images/{n}.png" for n in names],
                                  "conversation_image_tokens": counts, "prompt": prompt, "input_ids": ids[0].tolist(),
                                  "greedy_tokens": toks, "greedy_margin": margin, "min_greedy_margin": min(margin),
                                  "reply_text": answer})
                print(f"{m['folder']} {scenario} turn {t + 1}: tokens {toks[:8]} min margin {min(margin):.4f} "
                      f"reply {answer!r}", flush=True)
            fname = f"{m['folder']}__multiturn_{scenario}__origcode.json"
            golden = {"model_folder": f"tests/fixtures/models/{m['folder']}", "flavour": "orig",
                      "template": m["template"], "tokenizer": m["tokenizer"],
                      "reference": f"haotian-liu/LLaVA llava-torch 1.2.2.post1 (transformers {transformers.__version__}) "
                                   "fp32 CPU, one generate() per turn on conv.get_prompt()",
                      "torch": torch.__version__, "turns": out_turns}
            (FIX / "golden" / fname).write_text(json.dumps(golden, indent=2) + "\n")
            manifest["files"][fname] = {"model_folder": golden["model_folder"], "flavour": "orig",
                                        "template": m["template"], "turns": len(out_turns),
                                        "greedy_tokens": out_turns[-1]["greedy_tokens"],
                                        "min_greedy_margin": min(t["min_greedy_margin"] for t in out_turns)}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
