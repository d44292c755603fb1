#!/usr/bin/env python3
"""A fake Hugging Face Hub on 127.0.0.1 for the download tests (stdlib only; never used by the product).

It speaks the parts of the Hub protocol huggingface_hub uses (hf_api.py model_info, file_download.py
get_hf_file_metadata / http_get), with the real JSON shapes and headers:
  GET  /api/models/{repo}/revision/{rev}[?blobs=true] -> {"id", "sha", "siblings": [{"rfilename", "size",
       "blobId", "lfs": {"sha256", "size", "pointerSize"}}], ...}
  HEAD|GET /{repo}/resolve/{rev}/{file}: small files directly (ETag = git blob sha1); LFS files (*.safetensors,
       tokenizer.model) as a 302 to the "CDN" path /cdn/{sha256} with X-Linked-Etag / X-Linked-Size
  GET  /cdn/{sha256}: 307 to /cdn-edge/{sha256} (redirects while fetching), which sends the bytes with Range
       support (206 + Content-Range); --cdn-host puts the CDN on another host name (token must not go there)
Repositories (built from a fixture folder + a tokenizer.model):
  llava-hf/llava-v1.6-mistral-tiny-hf   main -> commit A, branch "v2" -> commit B (config.json differs)
  llava-hf/gated-tiny                   401 + X-Error-Code: GatedRepo unless "Authorization: Bearer <--token>"
  llava-hf/corrupt-tiny                 the CDN serves model-00002-of-00002.safetensors with one byte flipped
  llava-hf/slow-tiny                    the CDN sends 64 KiB every 20 ms (for cancel tests)
Fault injection: --drop-once FILE: the first full (non-Range) GET of that file stops half-way and closes the
connection. Requests with a Range header and requests that came through a proxy (absolute URI) are logged
and served at GET /_log as JSON. Prints the port on the first line of stdout.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".model")


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, files, commits):
        self.commits = commits  # revision -> (commit, {name: bytes})
        self.files = files


def build_repos(fixture_dir, tokenizer):
    base = {}
    for name in sorted(os.listdir(fixture_dir)):
        with open(os.path.join(fixture_dir, name), "rb") as f:
            base[name] = f.read()
    with open(tokenizer, "rb") as f:
        base["tokenizer.model"] = f.read()
    base["README.md"] = b"# tiny fixture\n"
    base[".gitattributes"] = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    base["pytorch_model.bin"] = b"not needed by the app\n"
    v2 = dict(base)
    cfg = json.loads(base["config.json"])
    cfg["_fake_hub_revision"] = "v2"
    v2["config.json"] = json.dumps(cfg, indent=2).encode()
    commit_a = hashlib.sha1(b"commit-a").hexdigest()
    commit_b = hashlib.sha1(b"commit-b").hexdigest()
    main = (commit_a, base)
    repos = {
        "llava-hf/llava-v1.6-mistral-tiny-hf": {"main": main, "v2": (commit_b, v2)},
        "llava-hf/gated-tiny": {"main": main},
        "llava-hf/corrupt-tiny": {"main": main},
        "llava-hf/slow-tiny": {"main": main},
    }
    return repos


class State:
    def __init__(self, args):
        self.repos = build_repos(args.fixture_dir, args.tokenizer)
        self.token = args.token
        self.cdn_host = args.cdn_host
        self.drop_once = set(args.drop_once or [])
        self.log = []
        self.lock = threading.Lock()
        self.blobs = {}  # sha256 -> bytes
        for revs in self.repos.values():
            for _, files in revs.values():
                for data in files.values():
                    self.blobs[hashlib.sha256(data).hexdigest()] = data


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet
            pass

        # ---- helpers -------------------------------------------------------------------------------
        def target(self):
            path = self.path
            proxied = path.startswith("http://") or path.startswith("https://")
            if proxied:
                parts = urlsplit(path)
                path = parts.path + ("?" + parts.query if parts.query else "")
            with state.lock:
                if proxied or "Range" in self.headers:
                    state.log.append({"method": self.command, "path": path, "range": self.headers.get("Range"),
                                      "proxied": proxied, "host": self.headers.get("Host")})
            return path

        def send(self, status, body=b"", headers=None, head=False):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and body:
                self.wfile.write(body)

        def error(self, status, code, message, head=False):
            body = json.dumps({"error": message}).encode()
            self.send(status, body, {"X-Error-Code": code, "X-Error-Message": message,
                                     "Content-Type": "application/json"}, head)

        def authorised(self, repo):
            if repo != "llava-hf/gated-tiny":
                return True
            return self.headers.get("Authorization") == "Bearer " + state.token

        def resolve(self, repo, revision):
            revs = state.repos.get(repo)
            if revs is None:
                return None, "RepoNotFound"
            if revision in revs:
                return revs[revision], None
            for commit, files in revs.values():
                if commit == revision:
                    return (commit, files), None
            return None, "RevisionNotFound"

        # ---- routes --------------------------------------------------------------------------------
        def do_HEAD(self):
            self.route(head=True)

        def do_GET(self):
            self.route(head=False)

        def route(self, head):
            path = self.target()
            if path == "/_log":
                with state.lock:
                    body = json.dumps(state.log).encode()
                return self.send(200, body, {"Content-Type": "application/json"}, head)
            m = re.match(r"^/api/models/([^/]+/[^/]+)/revision/([^?]+)(\?.*)?$", path)
            if m:
                return self.api(m.group(1), unquote(m.group(2)), head)
            m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
            if m:
                return self.resolve_file(m.group(1), unquote(m.group(2)), unquote(m.group(3)), head)
            m = re.match(r"^/cdn/([0-9a-f]{64})\?repo=(.+)&file=(.+)$", path)
            if m:  # the CDN's front door sends every request on to an "edge" path (a second redirect)
                with state.lock:
                    if "Authorization" in self.headers:
                        state.log.append({"method": self.command, "path": path, "auth_at_cdn": True})
                return self.send(307, b"", {"Location": path.replace("/cdn/", "/cdn-edge/", 1)}, head)
            m = re.match(r"^/cdn-edge/([0-9a-f]{64})\?repo=(.+)&file=(.+)$", path)
            if m:
                with state.lock:
                    if "Authorization" in self.headers:
                        state.log.append({"method": self.command, "path": path, "auth_at_cdn": True})
                return self.cdn(m.group(1), unquote(m.group(2)), unquote(m.group(3)), head)
            self.error(404, "EntryNotFound", "no route " + path, head)

        def api(self, repo, revision, head):
            if not self.authorised(repo):
                return self.error(401, "GatedRepo", "Access to model %s is restricted." % repo, head)
            found, code = self.resolve(repo, revision)
            if not found:
                return self.error(404, code, "%s@%s not found" % (repo, revision), head)
            commit, files = found
            siblings = []
            for name, data in sorted(files.items()):
                entry = {"rfilename": name, "size": len(data), "blobId": git_blob_sha1(data)}
                if name.endswith(LFS_SUFFIXES):
                    entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                    entry["size"] = len(data)
                siblings.append(entry)
            info = {"_id": "0" * 24, "id": repo, "modelId": repo, "author": repo.split("/")[0], "sha": commit,
                    "lastModified": "2024-01-01T00:00:00.000Z", "createdAt": "2024-01-01T00:00:00.000Z",
                    "private": False, "gated": "manual" if repo == "llava-hf/gated-tiny" else False,
                    "disabled": False, "downloads": 0, "likes": 0, "tags": ["llava_next"],
                    "library_name": "transformers", "siblings": siblings}
            self.send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, head)

        def resolve_file(self, repo, revision, name, head):
            if not self.authorised(repo):
                return self.error(401, "GatedRepo", "Access to model %s is restricted." % repo, head)
            found, code = self.resolve(repo, revision)
            if not found:
                return self.error(404, code, "%s@%s not found" % (repo, revision), head)
            commit, files = found
            if name not in files:
                return self.error(404, "EntryNotFound", "%s not in %s" % (name, repo), head)
            data = files[name]
            if name.endswith(LFS_SUFFIXES):
                sha = hashlib.sha256(data).hexdigest()
                host = self.headers.get("Host", "127.0.0.1")
                if state.cdn_host:  # the CDN on another host name (the token must not follow)
                    host = "%s:%d" % (state.cdn_host, self.server.server_address[1])
                location = "http://%s/cdn/%s?repo=%s&file=%s" % (host, sha, repo, name)
                return self.send(302, b"", {"Location": location, "X-Repo-Commit": commit,
                                            "X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": str(len(data)),
                                            "ETag": '"%s"' % git_blob_sha1(b"pointer " + sha.encode())}, head)
            self.send(200, data, {"ETag": '"%s"' % git_blob_sha1(data), "X-Repo-Commit": commit,
                                  "Content-Type": "application/octet-stream"}, head)

        def cdn(self, sha, repo, name, head):
            data = state.blobs.get(sha)
            if data is None:
                return self.error(404, "EntryNotFound", "no blob " + sha, head)
            if repo == "llava-hf/corrupt-tiny" and name == "model-00002-of-00002.safetensors":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            start = 0
            rng = self.headers.get("Range")
            if rng:
                m = re.match(r"^bytes=(\d+)-$", rng)
                if not m or int(m.group(1)) > len(data):
                    return self.send(416, b"", {"Content-Range": "bytes */%d" % len(data)}, head)
                start = int(m.group(1))
            body = data[start:]
            self.send_response(206 if rng else 200)
            if rng:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", '"%s"' % sha)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if head:
                return
            drop = False
            with state.lock:
                if not rng and name in state.drop_once:
                    state.drop_once.discard(name)
                    drop = True
            if drop:  # half the bytes, then the connection goes away
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if repo == "llava-hf/slow-tiny":
                for i in range(0, len(body), 65536):
                    self.wfile.write(body[i:i + 65536])
                    self.wfile.flush()
                    time.sleep(0.02)
                return
            self.wfile.write(body)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixture-dir", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--token", default="hf_fake_test_token")
    parser.add_argument("--drop-once", action="append")
    parser.add_argument("--cdn-host", default="", help="host name in CDN redirects (default: the request's Host)")
    args = parser.parse_args()
    state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
