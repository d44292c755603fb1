#!/usr/bin/env python3
"""HF transformers baseline for bench-gpu: LlavaNextForConditionalGeneration with llava-v1.6-mistral-7b
shapes and random bf16 weights built from a config on the GPU (no download, no checkpoint).

Measures, on the same GPU and with the same shapes as bench/gpu/bench_gpu.cpp:
  * decode tok/s at a ~3k context (one token per step with HF's KV cache, batch 1);
  * prefill of the image prompt (2930 tokens as inputs_embeds, logits of the last token only);
  * CLIP ViT-L/336 on 5 tiles + the projector (vision tower with hidden states, penultimate layer);
  * TTFT estimate = CLIP + prefill + one decode step (the same sum bench-gpu reports).
Timing: CUDA events, warm-up runs, median of --reps. Prints a markdown table and
"RESULT <key> <value> <unit>" lines that scripts/gpu-check matches with bench-gpu's to print ratios.
Each metric is measured independently: a failure prints "RESULT-ERROR <key> <reason>" and the rest go on.
Deliberately not here: accuracy (random weights), generate() overheads beyond one forward per token.
"""
import argparse
import statistics
import sys
import time

# llava-v1.6-mistral-7b (text: Mistral-7B-Instruct-v0.2; vision: CLIP ViT-L/14-336; mlp2x_gelu projector)
TEXT = dict(vocab_size=32064, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
            num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768, rope_theta=1e6,
            rms_norm_eps=1e-5, sliding_window=None)
VISION = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
              image_size=336, patch_size=14, projection_dim=768, hidden_act="quick_gelu", layer_norm_eps=1e-5)
TILES, SIDE, PREFILL, CONTEXT = 5, 336, 2930, 3072


def build_model(torch, transformers):
    config = transformers.LlavaNextConfig(
        vision_config=transformers.CLIPVisionConfig(**VISION),
        text_config=transformers.MistralConfig(**TEXT),
        image_token_index=32000,
        image_grid_pinpoints=[[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
    )
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):  # random init on the GPU: seconds, not minutes
        model = transformers.LlavaNextForConditionalGeneration(config)
    torch.set_default_dtype(torch.float32)
    return model.to(dtype=torch.bfloat16).eval()


def submodule(model, name):
    """Older transformers keep vision_tower/... on the top model, newer ones under model.model."""
    found = getattr(model, name, None)
    if found is None and hasattr(model, "model"):
        found = getattr(model.model, name, None)
    if found is None:
        raise AttributeError(f"LlavaNext model has no {name}")
    return found


def time_ms(torch, fn, warmup, reps):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for i in range(warmup + reps):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        if i >= warmup:
            times.append(start.elapsed_time(stop))
    return statistics.median(times)


def forward_last_logits(model, **kwargs):
    """One forward with logits for the last position only (kwarg name differs across versions)."""
    for key in ("logits_to_keep", "num_logits_to_keep"):
        try:
            return model(**kwargs, **{key: 1})
        except TypeError:
            continue
    return model(**kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--decode-steps", type=int, default=32)
    args = parser.parse_args()
    import torch
    import transformers

    if not torch.cuda.is_available():
        print("hf_bench: no CUDA device visible to torch; nothing to measure", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    t0 = time.time()
    model = build_model(torch, transformers)
    name = torch.cuda.get_device_name(0)
    print(f"# hf_bench: HF transformers {transformers.__version__}, torch {torch.__version__}, {name}\n")
    print(f"llava-v1.6-mistral-7b shapes, random bf16 weights (built in {time.time() - t0:.1f} s), "
          f"attn_implementation={getattr(model.config, '_attn_implementation', '?')}; median of {args.reps} runs\n")
    results, rows = {}, []

    def measure(key, unit, fn, note):
        try:
            with torch.inference_mode():
                value = fn()
            results[key] = value
            rows.append(f"| {key} | {value:.2f} {unit} | {note} |")
            print(f"RESULT {key} {value:.2f} {unit}", flush=True)
        except Exception as error:  # one metric failing must not hide the others
            rows.append(f"| {key} | error | {type(error).__name__}: {str(error)[:120]} |")
            print(f"RESULT-ERROR {key} {type(error).__name__}: {error}", flush=True)
            torch.cuda.empty_cache()

    vocab = TEXT["vocab_size"] - 64  # stay below the image token id

    def clip_ms():
        tower, projector = submodule(model, "vision_tower"), submodule(model, "multi_modal_projector")
        pixels = torch.randn(TILES, 3, SIDE, SIDE, device="cuda", dtype=torch.bfloat16)

        def run():
            hidden = tower(pixels, output_hidden_states=True).hidden_states[-2][:, 1:]
            return projector(hidden)
        return time_ms(torch, run, 3, args.reps)

    def prefill_ms():
        embeds = torch.randn(1, PREFILL, TEXT["hidden_size"], device="cuda", dtype=torch.bfloat16) * 0.02
        return time_ms(torch, lambda: forward_last_logits(model, inputs_embeds=embeds, use_cache=True), 2, args.reps)

    decode_state = {}

    def decode_tok_s():
        ids = torch.randint(0, vocab, (1, CONTEXT - args.decode_steps - 4), device="cuda")
        out = forward_last_logits(model, input_ids=ids, use_cache=True)
        cache = out.past_key_values
        token = out.logits[:, -1:].argmax(-1)
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for i in range(args.decode_steps):
            start.record()
            out = model(input_ids=token, past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            token = out.logits[:, -1:].argmax(-1)  # greedy, on the device like the engine
            stop.record()
            stop.synchronize()
            if i >= 3:
                times.append(start.elapsed_time(stop))
        decode_state["ms"] = statistics.median(times)
        del cache, out
        return 1e3 / decode_state["ms"]

    measure("clip_ms", "ms", clip_ms, f"CLIP-L/336 {TILES} tiles (24 layers run, hidden_states[-2]) + projector")
    measure("prefill_ms", "ms", prefill_ms, f"{PREFILL} tokens as inputs_embeds, last-token logits")
    torch.cuda.empty_cache()
    measure("decode_16bit_tok_s", "tok/s", decode_tok_s,
            f"bf16, context ~{CONTEXT}, one forward per token with HF's KV cache")
    if all(k in results for k in ("clip_ms", "prefill_ms")) and "ms" in decode_state:
        ttft = results["clip_ms"] + results["prefill_ms"] + decode_state["ms"]
        results["ttft_ms"] = ttft
        rows.append(f"| ttft_ms | {ttft:.2f} ms | estimate: CLIP + prefill + one decode step, medians summed |")
        print(f"RESULT ttft_ms {ttft:.2f} ms", flush=True)
    print("\n| metric | value | notes |\n|---|---|---|")
    print("\n".join(rows))
    return 0 if len(results) >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
