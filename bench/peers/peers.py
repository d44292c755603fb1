#!/usr/bin/env python3
"""Side-by-side CPU benchmark: Llava Insight vs llama.cpp vs PyTorch/transformers (developer tool, not shipped).

One command (see bench/peers/README.md):
    /work/venvs/hf/bin/python bench/peers/peers.py --llama-src DIR [--work DIR] [--rounds 3] [--threads 2]

Steps, each skipped when its output already exists in --work (outside the repository):
  1. build llama.cpp CPU-only from --llama-src (a checkout of github.com/ggml-org/llama.cpp; its commit is
     recorded in the table) into WORK/llama-build;
  2. make one random-weight LLaVA-NeXT: real CLIP ViT-L/336 tower + a 0.94 B Mistral-shaped decoder
     (d 2048, 18 layers, 16/4 heads, ffn 5632, vocab 32064), fp16, llava-hf layout (WORK/model);
  3. convert it for llama.cpp: the decoder through convert_hf_to_gguf.py (F16) and llama-quantize (Q8_0,
     Q4_0, Q4_K_M); the vision tower + projector + image_newline through the LLaVA-1.6 route of
     tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py (--clip-model-is-vision + llava.projector);
  4. interleaved rounds (project, llama.cpp, PyTorch in turn, every phase), medians and ranges.
The PyTorch side runs as subprocesses of this same file (`peers.py torch-phase ...`), one phase per process,
so each peak RSS is that of one fresh process (as for the other two programs).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = ROOT.parent / "shared" / "assets" / "tokenizers" / "mistral-7b-v0.1.model"
TEXT = dict(vocab_size=32064, hidden_size=2048, intermediate_size=5632, num_hidden_layers=18,
            num_attention_heads=16, num_key_value_heads=4, max_position_embeddings=32768, rope_theta=1e6,
            rms_norm_eps=1e-5, sliding_window=None, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
VISION = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
              image_size=336, patch_size=14, projection_dim=768, hidden_act="quick_gelu", layer_norm_eps=1e-5)
PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
PREFILL, DECODE = 512, 32
# ~512 tokens of text for the project's prefill row (its chat template adds a few; the count is reported)
PREFILL_PROMPT = " ".join(["the quick brown fox jumps over the lazy dog"] * 51)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$", " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time: (stdout, stderr, wall seconds, peak RSS bytes)."""
    tf = Path(os.environ.get("TMPDIR", "/tmp")) / f"peers-time-{os.getpid()}.txt"
    full = ["/usr/bin/time", "-f", "%e %M", "-o", str(tf)] + [str(c) for c in cmd]
    p = subprocess.run(full, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(str(c) for c in cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    wall, rss_kb = tf.read_text().split()[-2:]
    return p.stdout, p.stderr, float(wall), int(rss_kb) * 1024


# ----------------------------------------------------------------------------------------------- step 1
def llama_commit(src: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return os.environ.get("LLAMA_CPP_COMMIT", "unknown (no git metadata; set LLAMA_CPP_COMMIT)")


def build_llama(src: Path, work: Path) -> Path:
    build = work / "llama-build"
    bins = build / "bin"
    targets = ["llama-bench", "llama-quantize", "llama-mtmd-cli"]
    if all((bins / t).exists() for t in targets):
        return bins
    launcher = ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DGGML_CUDA=OFF",
         "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
         "-DLLAMA_BUILD_SERVER=OFF", "-DBUILD_SHARED_LIBS=OFF"] + launcher)
    run(["nice", "-n", "10", "cmake", "--build", build, "-j", str(os.cpu_count() or 2), "--target"] + targets)
    return bins


# ----------------------------------------------------------------------------------------------- step 2
def make_model(work: Path):
    """WORK/model (llava-hf layout, for the project and PyTorch), WORK/llm (the decoder alone, for
    convert_hf_to_gguf.py), WORK/vit (CLIP vision model + config + llava.projector, for the mmproj)."""
    model_dir, llm_dir, vit_dir = work / "model", work / "llm", work / "vit"
    if (work / "model.done").exists():
        return model_dir, llm_dir, vit_dir
    import torch
    import transformers
    from safetensors.torch import save_file

    for d in (model_dir, llm_dir, vit_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    cfg = transformers.LlavaNextConfig(
        vision_config=transformers.CLIPVisionConfig(**VISION), text_config=transformers.MistralConfig(**TEXT),
        image_token_index=32000, image_grid_pinpoints=PINPOINTS, vision_feature_layer=-2,
        vision_feature_select_strategy="default", projector_hidden_act="gelu", tie_word_embeddings=False,
        use_image_newline_parameter=True, image_seq_length=576)
    torch.manual_seed(14)
    torch.set_default_dtype(torch.float16)
    model = transformers.LlavaNextForConditionalGeneration(cfg)  # HF's own init (std 0.02, norms 1)
    torch.set_default_dtype(torch.float32)
    sd = {k: t.detach().to(torch.float16).contiguous() for k, t in model.state_dict().items()}
    save_file(sd, model_dir / "model.safetensors", metadata={"format": "pt"})
    cfg.save_pretrained(model_dir)
    c = json.loads((model_dir / "config.json").read_text())
    c["torch_dtype"] = "float16"
    c["architectures"] = ["LlavaNextForConditionalGeneration"]
    (model_dir / "config.json").write_text(json.dumps(c, indent=2))
    shutil.copy(TOKENIZER, model_dir / "tokenizer.model")
    tok_cfg = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
               "add_bos_token": True, "add_eos_token": False, "legacy": True,
               "chat_template": "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"}
    (model_dir / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
    (model_dir / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "LlavaNextImageProcessor", "processor_class": "LlavaNextProcessor",
        "do_resize": True, "size": {"shortest_edge": 336}, "resample": 3, "do_center_crop": True,
        "crop_size": {"height": 336, "width": 336}, "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "do_pad": True,
        "do_convert_rgb": True, "image_grid_pinpoints": PINPOINTS}, indent=2))

    # The decoder alone as MistralForCausalLM (the llama.cpp docs' route for a llava-next LLM).
    llm = {}
    for k, t in sd.items():
        if k.startswith("model.language_model."):
            llm["model." + k[len("model.language_model."):]] = t
        elif k.startswith("language_model.model."):
            llm["model." + k[len("language_model.model."):]] = t
        elif k in ("lm_head.weight", "language_model.lm_head.weight"):
            llm["lm_head.weight"] = t
    save_file(llm, llm_dir / "model.safetensors", metadata={"format": "pt"})
    tc = transformers.MistralConfig(**TEXT)
    tc.architectures = ["MistralForCausalLM"]
    tc.save_pretrained(llm_dir)
    c = json.loads((llm_dir / "config.json").read_text())
    c["torch_dtype"] = "float16"
    (llm_dir / "config.json").write_text(json.dumps(c, indent=2))
    shutil.copy(TOKENIZER, llm_dir / "tokenizer.model")
    (llm_dir / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))

    # Vision tower as a CLIPVisionModel + the LLaVA-1.6 keys the mmproj converter reads from its config,
    # and the projector + image_newline as llava.projector (what llava_surgery_v2.py extracts).
    vis = {}
    for k, t in sd.items():
        for p in ("model.vision_tower.", "vision_tower."):
            if k.startswith(p):
                vis[k[len(p):]] = t
    save_file(vis, vit_dir / "model.safetensors", metadata={"format": "pt"})
    vc = transformers.CLIPVisionConfig(**VISION)
    vc.architectures = ["CLIPVisionModel"]
    vc.save_pretrained(vit_dir)
    c = json.loads((vit_dir / "config.json").read_text())
    c.update({"image_grid_pinpoints": PINPOINTS, "mm_patch_merge_type": "spatial_unpad",
              "image_aspect_ratio": "anyres", "mm_projector_type": "mlp2x_gelu", "torch_dtype": "float16"})
    (vit_dir / "config.json").write_text(json.dumps(c, indent=2))
    proj = {}
    for k, t in sd.items():
        short = k[len("model."):] if k.startswith("model.") else k
        if short.startswith("multi_modal_projector.") or short == "image_newline":
            proj[short] = t.float()
    torch.save(proj, vit_dir / "llava.projector")
    (work / "model.done").write_text("ok\n")
    return model_dir, llm_dir, vit_dir


def make_images(work: Path):
    from PIL import Image
    import numpy as np
    img = work / "image-672.png"
    if not img.exists():
        rng = np.random.default_rng(14)
        Image.fromarray(rng.integers(0, 256, (672, 672, 3), dtype=np.uint8)).save(img)
    return img


# ----------------------------------------------------------------------------------------------- step 3
def convert(src: Path, bins: Path, work: Path, llm_dir: Path, vit_dir: Path):
    env = dict(os.environ, PYTHONPATH=str(src / "gguf-py"))
    ggufs = {"F16": work / "llm-f16.gguf", "Q8_0": work / "llm-q8_0.gguf", "Q4_0": work / "llm-q4_0.gguf",
             "Q4_K_M": work / "llm-q4_k_m.gguf"}
    if not ggufs["F16"].exists():
        run([sys.executable, src / "convert_hf_to_gguf.py", llm_dir, "--outtype", "f16", "--outfile", ggufs["F16"]],
            env=env)
    for q in ("Q8_0", "Q4_0", "Q4_K_M"):
        if not ggufs[q].exists():
            run([bins / "llama-quantize", ggufs["F16"], ggufs[q], q, "2"])
    mmproj = work / "mmproj" / "mmproj-model-f16.gguf"
    if not mmproj.exists():
        run([sys.executable, src / "tools" / "mtmd" / "legacy-models" / "convert_image_encoder_to_gguf.py",
             "-m", vit_dir, "--llava-projector", vit_dir / "llava.projector", "--output-dir", work / "mmproj",
             "--clip-model-is-vision"], env=env)
    return ggufs, mmproj


# ----------------------------------------------------------------------------------------------- PyTorch
def torch_phase(argv):
    """One phase in this fresh process; prints one JSON line. --dtype float16 keeps the weights as stored
    (the project's as-stored precision); float32 (the default) is what PyTorch runs fastest on a CPU without
    AVX-512 FP16/BF16, where its fp16 matmuls are many times slower. --threads intra-op threads."""
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["startup", "decode", "prefill", "image"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    import torch
    import transformers
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    model = transformers.LlavaNextForConditionalGeneration.from_pretrained(a.model, dtype=dtype).eval()
    lm = model.model.language_model if hasattr(model.model, "language_model") else model.language_model
    out = {"load_s": time.perf_counter() - t0}
    with torch.no_grad():
        if a.phase == "startup":
            ids = torch.tensor([[1, 733]])
            model(input_ids=ids, use_cache=True)
            out["startup_s"] = time.perf_counter() - t0
        elif a.phase == "prefill":
            ids = torch.randint(3, 32000, (1, PREFILL))
            model(input_ids=ids[:, :16])  # warm-up
            t = time.perf_counter()
            model(input_ids=ids, logits_to_keep=1)
            out["prefill_tok_s"] = PREFILL / (time.perf_counter() - t)
        elif a.phase == "decode":
            ids = torch.randint(3, 32000, (1, 16))
            r = model(input_ids=ids, use_cache=True, logits_to_keep=1)
            past, nxt, steps = r.past_key_values, r.logits[:, -1:].argmax(-1), []
            for _ in range(DECODE):
                t = time.perf_counter()
                r = model(input_ids=nxt, past_key_values=past, use_cache=True)
                past, nxt = r.past_key_values, r.logits[:, -1:].argmax(-1)
                steps.append(time.perf_counter() - t)
            out["decode_tok_s"] = 1.0 / statistics.median(steps)
        else:  # 672x672: the 2x2 grid + base = 5 crops through CLIP (penultimate layer) + projector
            px = torch.randn(1, 5, 3, 336, 336, dtype=dtype)
            sizes = torch.tensor([[672, 672]])
            t = time.perf_counter()
            feats = model.model.get_image_features(pixel_values=px, image_sizes=sizes,
                                                   vision_feature_layer=-2, vision_feature_select_strategy="default")
            out["image_s"] = time.perf_counter() - t
            out["image_rows"] = int(sum(f.shape[0] for f in feats))
    print("RESULT " + json.dumps(out), flush=True)


def torch_run(phase, model_dir, threads, dtype):
    so, _, wall, rss = timed([sys.executable, __file__, "torch-phase", phase, "--model", model_dir,
                              "--threads", threads, "--dtype", dtype])
    res = json.loads([l for l in so.splitlines() if l.startswith("RESULT ")][-1][7:])
    res.update(wall_s=wall, rss=rss)
    return res


# ----------------------------------------------------------------------------------------------- project
def project_run(cli: Path, model_dir: Path, threads, precision, prompt, max_new, image=None, cache=True):
    cmd = [cli, "chat", "--model", model_dir, "--backend", "cpu", "--threads", threads, "--precision", precision,
           "--temperature", "0", "--max-new-tokens", max_new, "--prompt", prompt, "--json", "--context", "4096"]
    if image:
        cmd += ["--image", image]
    if not cache:
        cmd += ["--no-weight-cache"]
    so, _, wall, rss = timed(cmd)
    j = json.loads(so)
    stats = dict(j.get("stats", {}), wall_s=wall, rss=rss, weight_cache=j.get("weight_cache", ""))
    return stats


def quant_gbs(note: str):
    m = re.search(r"\(([0-9.]+) GB/s\)", note or "")
    return float(m.group(1)) if m else None


# ----------------------------------------------------------------------------------------------- llama.cpp
def llama_bench(bins: Path, gguf: Path, threads):
    so, _, wall, rss = timed([bins / "llama-bench", "-m", gguf, "-t", threads, "-p", PREFILL, "-n", DECODE,
                              "-r", "1", "-o", "json"])
    rows = json.loads(so)
    out = {"rss": rss}
    for r in rows:
        if r.get("n_prompt", 0) > 0 and r.get("n_gen", 0) == 0:
            out["prefill_tok_s"] = r["avg_ts"]
        elif r.get("n_gen", 0) > 0:
            out["decode_tok_s"] = r["avg_ts"]
    return out


def llama_mtmd(bins: Path, gguf: Path, mmproj: Path, threads, image=None):
    cmd = [bins / "llama-mtmd-cli", "-m", gguf, "--mmproj", mmproj, "-t", threads, "-c", "4096", "-n", "1",
           "--temp", "0", "-p", "Describe the picture." if image else "hi", "--no-warmup"]
    if image:
        cmd += ["--image", image]
    so, se, wall, rss = timed(cmd)
    se = so + se  # the helper's log lines go to either stream depending on the build's logger
    # "image slice encoded in N ms" (older helper) or "mtmd batch encoding done in N ms" (one line per slice)
    enc = [int(x) for x in re.findall(r"(?:slice encoded|mtmd batch encoding done) in (\d+) ms", se)]
    ntok = re.findall(r"n_tokens\s*=\s*(\d+)", se)
    return {"image_s": sum(enc) / 1000 if enc else None, "wall_s": wall, "rss": rss,
            "log_tokens": ntok[-1] if ntok else None}


# ----------------------------------------------------------------------------------------------- table
def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None, None
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs, unit, digits=1, scale=1.0):
    m, lo, hi = med([x * scale if x is not None else None for x in xs])
    if m is None:
        return "—"
    return f"{m:.{digits}f} {unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def ratio(ours, theirs, higher_better=True):
    a, _, _ = med(ours)
    b, _, _ = med(theirs)
    if a is None or b is None or a == 0 or b == 0:
        return "—"
    return f"{(a / b if higher_better else b / a):.2f}×"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "torch-phase":
        return torch_phase(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-src", default=os.environ.get("LLAMA_CPP_SRC"),
                    help="llama.cpp source checkout (env LLAMA_CPP_SRC); its git HEAD is recorded")
    ap.add_argument("--work", default=os.environ.get("PEERS_WORK", "/tmp/llava-peers"),
                    help="scratch folder outside the repository (models, GGUFs, llama.cpp build)")
    ap.add_argument("--build", default=str(ROOT / "build" / "ci"), help="the project's build folder")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma list of peers to leave out: llama,torch")
    ap.add_argument("--phases", default="startup,quantise,decode,prefill,image",
                    help="comma list of phases to run; quantise = the q8/q4 start-ups without the weight cache "
                         "and the first (cache-building) one, the slowest rows")
    ap.add_argument("--torch-dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                    help="PyTorch weights and compute (float32: its fastest on CPUs without AVX-512 FP16/BF16)")
    ap.add_argument("--out", help="also write the markdown table to this file")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, a.skip.split(",")))
    phases = set(filter(None, a.phases.split(",")))
    cli = Path(a.build) / "app" / "llava-insight-cli"
    if not cli.exists():
        sys.exit(f"peers: {cli} not found: build the target llava-insight-cli first")
    model_dir, llm_dir, vit_dir = make_model(work)
    image = make_images(work)
    commit = "—"
    if "llama" not in skip:
        if not a.llama_src:
            sys.exit("peers: --llama-src (or LLAMA_CPP_SRC) is needed, or --skip llama")
        src = Path(a.llama_src)
        commit = llama_commit(src)
        bins = build_llama(src, work)
        ggufs, mmproj = convert(src, bins, work, llm_dir, vit_dir)
    t = str(a.threads)
    R = {k: [] for k in [f"p_{m}_{q}_{c}" for m in ("start", "rss") for q in ("q8", "q4") for c in ("nocache", "build")]
         + ["p_qgbs_q8", "p_qgbs_q4"] + ["p_startup", "p_rss_start", "p_dec_f16", "p_dec_q8", "p_dec_q4", "p_start_q8", "p_start_q4",
                         "p_rss_q8", "p_rss_q4", "p_prefill", "p_prefill_n", "p_image", "p_rss_image", "p_image_tok",
                         "l_startup", "l_rss_start", "l_image", "l_rss_image", "t_startup", "t_rss_start",
                         "t_decode", "t_prefill", "t_image", "t_rss_image", "t_image_rows"]
         + [f"l_dec_{q}" for q in ("F16", "Q8_0", "Q4_0", "Q4_K_M")] + [f"l_pp_{q}" for q in ("F16", "Q8_0", "Q4_0", "Q4_K_M")]
         + [f"l_rss_{q}" for q in ("F16", "Q8_0", "Q4_0", "Q4_K_M")]}

    def phase_of(key):
        for word, phase in (("image", "image"), ("prefill", "prefill"), ("decode", "decode"), ("llama-bench", "decode"),
                            ("no cache", "quantise"), ("build", "quantise")):
            if word in key:
                return phase
        return "startup"

    def attempt(key, fn):
        if phase_of(key) not in phases:
            return None
        try:
            res = fn()
            log(f"{key}: " + ", ".join(f"{k} {v}" for k, v in res.items() if k in (
                "wall_s", "rss", "decode_tok_per_s", "prefill_tok_per_s", "image_encode_ms", "weight_cache",
                "decode_tok_s", "prefill_tok_s", "image_s")))
            return res
        except Exception as e:  # one failed phase must not lose the others: recorded and shown as —
            log(f"peers: {key} failed: {e}")
            return None

    for rnd in range(a.rounds):
        log(f"--- round {rnd + 1}/{a.rounds}")
        # project
        s = attempt("project startup", lambda: project_run(cli, model_dir, t, "as-stored", "hi", 1))
        if s:
            R["p_startup"].append(s["wall_s"]); R["p_rss_start"].append(s["rss"])
        s = attempt("project decode fp16", lambda: project_run(cli, model_dir, t, "as-stored", "Tell me a story.", DECODE))
        if s:
            R["p_dec_f16"].append(s["decode_tok_per_s"])
        for key in ("q8", "q4"):
            # start-up (load + 1 token): quantised in memory (no cache), first time (cache built), cached
            s = attempt(f"project {key} no cache", lambda: project_run(cli, model_dir, t, key, "hi", 1, cache=False))
            if s:
                R[f"p_start_{key}_nocache"].append(s["wall_s"]); R[f"p_rss_{key}_nocache"].append(s["rss"])
            if "quantise" in phases:  # the first-time row needs no cache; without that phase, keep it
                for old in model_dir.glob(f"llava-insight-{key}.qcache*"):
                    old.unlink()
            s = attempt(f"project {key} build", lambda: project_run(cli, model_dir, t, key, "hi", 1))
            if s:
                R[f"p_start_{key}_build"].append(s["wall_s"]); R[f"p_rss_{key}_build"].append(s["rss"])
                R[f"p_qgbs_{key}"].append(quant_gbs(s["weight_cache"]))
                log(f"weight cache: {s['weight_cache']}")
            s = attempt(f"project {key} cached", lambda: project_run(cli, model_dir, t, key, "hi", 1))
            if s:
                R[f"p_start_{key}"].append(s["wall_s"]); R[f"p_rss_{key}"].append(s["rss"])
                log(f"weight cache: {s['weight_cache']}")
            s = attempt(f"project decode {key}", lambda: project_run(cli, model_dir, t, key, "Tell me a story.", DECODE))
            if s:
                R[f"p_dec_{key}"].append(s["decode_tok_per_s"])
        s = attempt("project prefill", lambda: project_run(cli, model_dir, t, "as-stored", PREFILL_PROMPT, 1))
        if s:
            R["p_prefill"].append(s["prefill_tok_per_s"]); R["p_prefill_n"].append(s.get("prefill_tokens"))
        s = attempt("project image", lambda: project_run(cli, model_dir, t, "as-stored", "Describe the picture.", 1, image))
        if s:
            R["p_image"].append(s["image_encode_ms"] / 1000); R["p_rss_image"].append(s["rss"])
            R["p_image_tok"].append(s.get("image_tokens"))
        # llama.cpp
        if "llama" not in skip:
            s = attempt("llama startup", lambda: llama_mtmd(bins, ggufs["F16"], mmproj, t))
            if s:
                R["l_startup"].append(s["wall_s"]); R["l_rss_start"].append(s["rss"])
            for q, g in ggufs.items():
                s = attempt(f"llama-bench {q}", lambda: llama_bench(bins, g, t))
                if s:
                    R[f"l_dec_{q}"].append(s.get("decode_tok_s")); R[f"l_pp_{q}"].append(s.get("prefill_tok_s"))
                    R[f"l_rss_{q}"].append(s["rss"])
            s = attempt("llama image", lambda: llama_mtmd(bins, ggufs["F16"], mmproj, t, image))
            if s:
                R["l_image"].append(s["image_s"]); R["l_rss_image"].append(s["rss"])
        # PyTorch
        if "torch" not in skip:
            s = attempt("torch startup", lambda: torch_run("startup", model_dir, t, a.torch_dtype))
            if s:
                R["t_startup"].append(s["wall_s"]); R["t_rss_start"].append(s["rss"])
            s = attempt("torch decode", lambda: torch_run("decode", model_dir, t, a.torch_dtype))
            if s:
                R["t_decode"].append(s["decode_tok_s"])
            s = attempt("torch prefill", lambda: torch_run("prefill", model_dir, t, a.torch_dtype))
            if s:
                R["t_prefill"].append(s["prefill_tok_s"])
            s = attempt("torch image", lambda: torch_run("image", model_dir, t, a.torch_dtype))
            if s:
                R["t_image"].append(s["image_s"]); R["t_rss_image"].append(s["rss"]); R["t_image_rows"].append(s["image_rows"])
        (work / "results.json").write_text(json.dumps(R, indent=1))

    GB = 1e-9
    lines = [f"Interleaved rounds: {a.rounds}; {a.threads} threads; median (min–max). llama.cpp commit {commit}. "
             f"PyTorch in {a.torch_dtype}.",
             f"Model: random LLaVA-NeXT, CLIP ViT-L/336 + Mistral-shaped decoder d 2048 × 18 layers (0.94 B), fp16.",
             f"Project prefill row: {med(R['p_prefill_n'])[0]} prompt tokens; image tokens project {med(R['p_image_tok'])[0]}, "
             f"PyTorch image-feature rows {med(R['t_image_rows'])[0]}.", "",
             "| phase | project | llama.cpp | PyTorch | project ÷ llama.cpp | project ÷ PyTorch |",
             "|---|---|---|---|---|---|"]

    def row(name, p, l, tt, hb=True, unit="tok/s", digits=1, scale=1.0):
        lines.append(f"| {name} | {fmt(p, unit, digits, scale)} | {fmt(l, unit, digits, scale)} | {fmt(tt, unit, digits, scale)} "
                     f"| {ratio(p, l, hb)} | {ratio(p, tt, hb)} |")

    row("decode fp16", R["p_dec_f16"], R["l_dec_F16"], R["t_decode"])
    row("decode 8-bit (llama.cpp Q8_0)", R["p_dec_q8"], R["l_dec_Q8_0"], [])
    row("decode 4-bit vs Q4_0", R["p_dec_q4"], R["l_dec_Q4_0"], [])
    row("decode 4-bit vs Q4_K_M", R["p_dec_q4"], R["l_dec_Q4_K_M"], [])
    row(f"prefill {PREFILL} text tokens, fp16", R["p_prefill"], R["l_pp_F16"], R["t_prefill"])
    row("image 672×672, 5 crops (CLIP + projector)", R["p_image"], R["l_image"], R["t_image"], False, "s", 2)
    row("peak RSS, image run (fp16)", R["p_rss_image"], R["l_rss_image"], R["t_rss_image"], False, "GB", 2, GB)
    row("start-up fp16 (load + 1 token, wall)", R["p_startup"], R["l_startup"], R["t_startup"], False, "s", 2)
    row("peak RSS at start-up fp16", R["p_rss_start"], R["l_rss_start"], R["t_rss_start"], False, "GB", 2, GB)
    for q, l in (("q8", "Q8_0"), ("q4", "Q4_0")):
        row(f"start-up {q}, quantised in memory (--no-weight-cache)", R[f"p_start_{q}_nocache"], [], [], False, "s", 2)
        row(f"start-up {q}, first time (quantise + write cache)", R[f"p_start_{q}_build"], [], [], False, "s", 2)
        row(f"start-up {q}, cached", R[f"p_start_{q}"], [], [], False, "s", 2)
        row(f"peak RSS {q}, quantised in memory (llama.cpp: llama-bench {l})", R[f"p_rss_{q}_nocache"],
            R[f"l_rss_{l}"], [], False, "GB", 2, GB)
        row(f"peak RSS {q}, first time", R[f"p_rss_{q}_build"], [], [], False, "GB", 2, GB)
        row(f"peak RSS {q}, cached", R[f"p_rss_{q}"], [], [], False, "GB", 2, GB)
        row(f"quantisation speed {q} (source GB/s)", R[f"p_qgbs_{q}"], [], [], True, "GB/s", 2)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
