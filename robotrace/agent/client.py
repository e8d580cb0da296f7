"""The running agent: learns of hop requests by signed webhook or by polling, and answers
each over the hop API from the provider's call records (records.py)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from robotrace.agent.records import CallRecords

logger = logging.getLogger("robotrace.agent")


class ApiClient:
    """Bearer-key client of the hop API (requests, with retries on connection errors)."""

    def __init__(self, base_url: str, key: str, *, timeout: float = 15):
        import requests

        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout

    def open_hops(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = ""
        while True:
            r = self.session.get(f"{self.base}/api/v1/hops", params={"cursor": cursor} if cursor else {}, timeout=self.timeout)
            r.raise_for_status()
            body = r.json()
            out += body["items"]
            cursor = body.get("next") or ""
            if not cursor:
                return out

    def answer(self, hop_id: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = self.session.post(f"{self.base}/api/v1/hops/{hop_id}/response", json=body,
                              headers={"Idempotency-Key": f"agent-{hop_id}"}, timeout=self.timeout)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, {}


class Agent:
    def __init__(self, client: ApiClient, records_loader: Callable[[], CallRecords], *, reload_seconds: float = 30):
        self.client = client
        self.loader = records_loader
        self.records = records_loader()
        self.loaded_at = time.monotonic()
        self.reload_seconds = reload_seconds
        self.answered = 0

    def _fresh(self) -> CallRecords:
        if time.monotonic() - self.loaded_at > self.reload_seconds:
            self.records = self.loader()
            self.loaded_at = time.monotonic()
        return self.records

    def handle(self, hop: dict[str, Any]) -> int:
        body = self._fresh().answer_for(hop)
        status, reply = self.client.answer(hop["id"], body)
        if status == 200:
            self.answered += 1
            logger.info("answered hop %s: %s", hop["id"], body["response"])
        elif status != 409:
            logger.warning("hop %s: answer refused (%s): %s", hop["id"], status, reply.get("detail"))
        return status

    def poll_once(self) -> int:
        n = 0
        for hop in self.client.open_hops():
            if hop["status"] in ("requested", "overdue", "non_responsive"):
                self.handle(hop)
                n += 1
        return n

    def serve_webhooks(self, port: int, secret: str, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104 - a provider's agent listens on its LAN
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                from robotrace.core.webhooks import WebhookVerificationError, verify

                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                try:
                    verify(secret, dict(self.headers.items()), body)
                except WebhookVerificationError as exc:
                    self.send_response(401)
                    self.end_headers()
                    self.wfile.write(str(exc).encode())
                    return
                self.send_response(204)
                self.end_headers()
                data = json.loads(body).get("data", {})
                if data.get("hop_id"):
                    hop = {"id": data["hop_id"], "kind": data.get("kind"), "call": data["call"], "status": data.get("status")}
                    threading.Thread(target=agent.handle, args=(hop,), daemon=True).start()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
