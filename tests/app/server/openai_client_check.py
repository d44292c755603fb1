#!/usr/bin/env python3
"""Talks to `llava-insight-cli serve` with the official `openai` client and prints what it got as JSON.

Run by tst_serve (tests/app/server/tst_serve.cpp) with the venv made from requirements-openai.txt; the
C++ test compares the results with the CLI's greedy tokens and `inspect`'s counts. Traffic goes only to
the --base-url given (127.0.0.1); every request has a timeout and no retries, and the loops are bounded.

Modes:
  chat   one non-streaming and one streaming completion for an image + prompt (data: URL), GET /v1/models
  busy   N concurrent completions (threads); counts 200 / 429 (with Retry-After) / other outcomes
  logprobs  logprobs: true, top_logprobs: 3, non-streaming and streaming; each token's entries as parsed
  turn2  a conversation whose image comes in its second user turn (--first-prompt, --first-answer)
"""
import argparse
import base64
import json
import sys
import threading
import time

import openai
from openai import OpenAI


def image_message(image_path, prompt):
    with open(image_path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + data}},
        {"type": "text", "text": prompt},
    ]}]


def usage_dict(usage):
    out = usage.model_dump() if usage is not None else None
    return out


def run_chat(client, args):
    messages = image_message(args.image, args.prompt)
    common = dict(model=args.model, messages=messages, max_tokens=args.max_tokens, temperature=0, seed=0,
                  extra_body={"return_token_ids": True})
    result = {"models": [m.id for m in client.models.list().data]}

    reply = client.chat.completions.create(**common)
    choice = reply.choices[0]
    result["nonstream"] = {
        "object": reply.object,
        "content": choice.message.content,
        "role": choice.message.role,
        "finish_reason": choice.finish_reason,
        "token_ids": (choice.model_extra or {}).get("token_ids"),
        "usage": usage_dict(reply.usage),
        "model": reply.model,
    }

    content, token_ids, chunks, finish, usage, roles = [], [], 0, None, None, []
    stream = client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **common)
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            usage = usage_dict(chunk.usage)
        for c in chunk.choices:
            if c.delta.role:
                roles.append(c.delta.role)
            if c.delta.content:
                content.append(c.delta.content)
            token_ids.extend((c.model_extra or {}).get("token_ids") or [])
            if c.finish_reason:
                finish = c.finish_reason
    result["stream"] = {"content": "".join(content), "token_ids": token_ids, "chunks": chunks,
                        "finish_reason": finish, "usage": usage, "roles": roles}
    return result


def logprob_entries(content):
    return [{"token": e.token, "logprob": e.logprob, "bytes": e.bytes, "id": (e.model_extra or {}).get("id"),
             "top": [{"token": t.token, "logprob": t.logprob, "id": (t.model_extra or {}).get("id")}
                     for t in e.top_logprobs]}
            for e in content or []]


def run_logprobs(client, args):
    common = dict(model=args.model, messages=image_message(args.image, args.prompt), max_tokens=args.max_tokens,
                  temperature=0, logprobs=True, top_logprobs=3, extra_body={"return_token_ids": True})
    reply = client.chat.completions.create(**common)
    choice = reply.choices[0]
    result = {"nonstream": {"content": choice.message.content,
                            "token_ids": (choice.model_extra or {}).get("token_ids"),
                            "logprobs": logprob_entries(choice.logprobs.content if choice.logprobs else None)}}
    entries, content = [], []
    for chunk in client.chat.completions.create(stream=True, **common):
        for c in chunk.choices:
            if c.delta.content:
                content.append(c.delta.content)
            if c.logprobs is not None:
                entries.extend(logprob_entries(c.logprobs.content))
    result["stream"] = {"content": "".join(content), "logprobs": entries}
    return result


def run_turn2(client, args):
    first, second = image_message(args.image, args.prompt)[0], {"role": "user", "content": args.first_prompt}
    messages = [second, {"role": "assistant", "content": args.first_answer}, first]
    reply = client.chat.completions.create(model=args.model, messages=messages, max_tokens=args.max_tokens,
                                           temperature=0, extra_body={"return_token_ids": True})
    choice = reply.choices[0]
    return {"content": choice.message.content, "token_ids": (choice.model_extra or {}).get("token_ids"),
            "usage": usage_dict(reply.usage)}


def run_busy(client, args):
    messages = image_message(args.image, args.prompt)
    outcomes = []
    lock = threading.Lock()

    def one():
        t0 = time.monotonic()
        try:
            client.chat.completions.create(model=args.model, messages=messages, max_tokens=args.max_tokens,
                                           temperature=0)
            outcome = {"status": 200}
        except openai.RateLimitError as e:
            outcome = {"status": 429, "retry_after": e.response.headers.get("retry-after"),
                       "code": (e.body or {}).get("code") if isinstance(e.body, dict) else None}
        except openai.APIStatusError as e:
            outcome = {"status": e.status_code, "message": str(e)}
        except Exception as e:  # connection errors, timeouts: reported, never hidden
            outcome = {"status": -1, "message": repr(e)}
        outcome["seconds"] = time.monotonic() - t0
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(args.count)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.timeout)
    return {"outcomes": outcomes, "alive_threads": sum(t.is_alive() for t in threads),
            "seconds": time.monotonic() - t0}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["chat", "busy", "logprobs", "turn2"])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--first-prompt", default="")
    parser.add_argument("--first-answer", default="")
    args = parser.parse_args()
    if not args.base_url.startswith("http://127.0.0.1:"):
        sys.exit("refusing a base URL that is not loopback: " + args.base_url)
    client = OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=args.timeout)
    modes = {"chat": run_chat, "busy": run_busy, "logprobs": run_logprobs, "turn2": run_turn2}
    result = modes[args.mode](client, args)
    result["openai_version"] = openai.__version__
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
