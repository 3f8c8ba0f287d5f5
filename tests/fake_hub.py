"""A tiny Hugging Face hub on loopback, for model-manager tests (never a real download).

Serves the routes huggingface_hub and our downloader call:

* ``GET /api/models/{org}/{name}[/revision/{rev}]`` (``?blobs=True``): the repo listing with each
  file's size, git blob id and LFS SHA-256 (``HfApi.model_info(files_metadata=True)``);
* ``GET|HEAD /{org}/{name}/resolve/{rev}/{path}``: the file, with ``X-Repo-Commit``, ``ETag`` /
  ``X-Linked-Etag``, ``X-Linked-Size`` and ``Range`` support (206 + ``Content-Range``).

A gated repo answers 401 + ``X-Error-Code: GatedRepo`` without an ``Authorization`` header.
``cut_after[path] = n`` sends only n bytes of that file once, then drops the connection (an
interrupted download); ``corrupt`` files are served with one byte changed (checksums must catch it).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    gated: bool = False


@dataclass
class FakeHub:
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self._serve(head=True)

            def do_GET(self):
                self._serve(head=False)

            def _send(self, code, body=b"", headers=None, head=False):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _serve(self, head):
                path = unquote(urlparse(self.path).path)
                hub.requests.append((self.command, self.path, dict(self.headers)))
                parts = path.strip("/").split("/")
                api = parts[:2] == ["api", "models"]
                if api and (len(parts) == 4 or (len(parts) >= 6 and parts[4] == "revision")):
                    return self._info("/".join(parts[2:4]), head)
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self._file("/".join(parts[:2]), "/".join(parts[4:]), head)
                self._send(404, b'{"error": "not found"}', {"X-Error-Code": "RepoNotFound"}, head)

            def _repo(self, repo_id, head):
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._send(
                        404,
                        b'{"error":"Repository not found"}',
                        {"X-Error-Code": "RepoNotFound"},
                        head,
                    )
                    return None
                if repo.gated and "authorization" not in {k.lower() for k in self.headers}:
                    body = json.dumps(
                        {"error": f"Access to model {repo_id} is restricted."}
                    ).encode()
                    self._send(
                        401, body, {"X-Error-Code": "GatedRepo", "X-Error-Message": "gated"}, head
                    )
                    return None
                return repo

            def _info(self, repo_id, head):
                repo = self._repo(repo_id, head)
                if repo is None:
                    return
                siblings = []
                for name, data in repo.files.items():
                    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                    entry = {"rfilename": name, "size": len(data), "blobId": blob}
                    if name.endswith(".safetensors"):
                        entry["lfs"] = {
                            "sha256": hashlib.sha256(data).hexdigest(),
                            "size": len(data),
                            "pointerSize": 134,
                        }
                    siblings.append(entry)
                body = json.dumps(
                    {
                        "_id": "x",
                        "id": repo_id,
                        "modelId": repo_id,
                        "sha": repo.commit,
                        "private": False,
                        "gated": "manual" if repo.gated else False,
                        "disabled": False,
                        "downloads": 0,
                        "likes": 0,
                        "tags": [],
                        "siblings": siblings,
                    }
                ).encode()
                self._send(200, body, {"Content-Type": "application/json"}, head)

            def _file(self, repo_id, name, head):
                repo = self._repo(repo_id, head)
                if repo is None:
                    return
                if name not in repo.files:
                    self._send(404, b"", {"X-Error-Code": "EntryNotFound"}, head)
                    return
                data = repo.files[name]
                if name in hub.corrupt:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                etag = hashlib.sha256(data).hexdigest()
                headers = {
                    "X-Repo-Commit": repo.commit,
                    "ETag": f'"{etag}"',
                    "X-Linked-Etag": f'"{etag}"',
                    "X-Linked-Size": str(len(data)),
                    "Accept-Ranges": "bytes",
                }
                start = 0
                rng = self.headers.get("Range")
                code = 200
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(data):
                        self._send(416, b"", headers, head)
                        return
                    code = 206
                    headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                body = data[start:]
                cut = hub.cut_after.pop(name, None)
                if cut is not None and not head:
                    self.send_response(code)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._send(code, body, headers, head)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def file_gets(self, name: str) -> list[dict[str, str]]:
        return [h for m, p, h in self.requests if m == "GET" and p.endswith("/" + name)]
