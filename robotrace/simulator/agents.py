"""Simulated provider agents: one webhook hub for every simulated provider, answering from
each provider's own call records with its behaviour.

Behaviours: `instant` answers at once; `slow` after some simulated hours (compressed by
`seconds_per_hour`); `sloppy` sometimes answers "no record" although the call is in its
records; `silent` never answers (non-responsive); `human` (the demo logins) leaves the hop
to a person in the portal for a few minutes and then answers.
"""

from __future__ import annotations

import heapq
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from robotrace.core.webhooks import WebhookVerificationError, verify
from robotrace.simulator.network import Network, SimProvider

logger = logging.getLogger("robotrace.simulator")


class Transport(Protocol):
    def open_hops(self, key: str) -> list[dict[str, Any]]: ...

    def answer(self, key: str, hop_id: int, body: dict[str, Any]) -> int: ...


class HttpTransport:
    """The real API over HTTP: one kept-alive `http.client` connection per thread.

    `requests` spends about three times the CPU per call (sessions, hooks, cookie jars,
    environment lookups); the agents share the benchmark machine's cores with the platform,
    so their client is the plain standard-library one. Same requests on the wire: bearer
    key, JSON body, Idempotency-Key."""

    def __init__(self, base_url: str, *, timeout: float = 30):
        from urllib.parse import urlsplit

        self.base = base_url.rstrip("/")
        parts = urlsplit(self.base)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _request(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, bytes]:
        import http.client

        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                conn = self._local.conn = cls(self._host, self._port, timeout=self.timeout)
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                # A kept-alive connection the server closed: reconnect once. Retrying is
                # safe: a GET changes nothing, and answers carry an Idempotency-Key.
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def open_hops(self, key: str) -> list[dict[str, Any]]:
        status, body = self._request("GET", "/api/v1/hops", {"Authorization": f"Bearer {key}"})
        return json.loads(body).get("items", []) if status == 200 else []

    def answer(self, key: str, hop_id: int, body: dict[str, Any]) -> int:
        status, _ = self._request("POST", f"/api/v1/hops/{hop_id}/response", {
            "Authorization": f"Bearer {key}", "Idempotency-Key": f"sim-{hop_id}", "Content-Type": "application/json",
        }, json.dumps(body).encode())
        return status


class ClientTransport:
    """Django's test client instead of HTTP (unit tests)."""

    def __init__(self, client: Any):
        self.client = client

    def open_hops(self, key: str) -> list[dict[str, Any]]:
        r = self.client.get("/api/v1/hops", HTTP_AUTHORIZATION=f"Bearer {key}")
        return r.json().get("items", []) if r.status_code == 200 else []

    def answer(self, key: str, hop_id: int, body: dict[str, Any]) -> int:
        r = self.client.post(f"/api/v1/hops/{hop_id}/response", data=json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY=f"sim-{hop_id}")
        return int(r.status_code)


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    provider: SimProvider = field(compare=False)
    hop: dict[str, Any] = field(compare=False)


class Agents:
    def __init__(
        self,
        network: Network,
        transport: Transport,
        *,
        seconds_per_hour: float = 10.0,
        sloppy_share: float = 0.2,
        human_delay: tuple[float, float] = (120.0, 300.0),
        workers: int = 8,
        seed: int = 1,
    ):
        self.net = network
        self.transport = transport
        self.seconds_per_hour = seconds_per_hour
        self.sloppy_share = sloppy_share
        self.human_delay = human_delay
        self.rng = random.Random(seed)
        self.seen: set[int] = set()
        self._seen_lock = threading.Lock()
        self._due: list[_Due] = []
        self._due_lock = threading.Lock()
        self._seq = 0
        self._work: queue.Queue[tuple[SimProvider, dict[str, Any]] | None] = queue.Queue()
        self.answered = 0
        self.errors = 0
        self.on_answer: Callable[[SimProvider, dict[str, Any], dict[str, Any], int], None] | None = None
        self._threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(workers)]
        if workers:
            self._threads.append(threading.Thread(target=self._scheduler, daemon=True))
        for t in self._threads:
            t.start()
        self.server: ThreadingHTTPServer | None = None

    # --- receiving ------------------------------------------------------------------------

    def receive(self, provider: SimProvider, hop: dict[str, Any]) -> None:
        """A hop request reached `provider` (webhook or poll): act on it per its behaviour."""
        with self._seen_lock:
            if hop["id"] in self.seen:
                return
            self.seen.add(hop["id"])
        b = provider.behaviour
        if b == "silent":
            return
        if b == "slow":
            self._schedule(provider, hop, self.rng.uniform(1, 8) * self.seconds_per_hour)
        elif b == "human":
            self._schedule(provider, hop, self.rng.uniform(*self.human_delay))
        else:
            self._work.put((provider, hop))

    def _schedule(self, provider: SimProvider, hop: dict[str, Any], delay: float) -> None:
        with self._due_lock:
            self._seq += 1
            heapq.heappush(self._due, _Due(time.monotonic() + delay, self._seq, provider, hop))

    def _scheduler(self) -> None:
        while True:
            now = time.monotonic()
            with self._due_lock:
                while self._due and self._due[0].at <= now:
                    d = heapq.heappop(self._due)
                    self._work.put((d.provider, d.hop))
            time.sleep(0.2)

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            provider, hop = item
            try:
                self.answer(provider, hop)
            except Exception:  # a failed answer must not kill the agent; the poll retries
                self.errors += 1
                with self._seen_lock:
                    self.seen.discard(hop["id"])
                logger.exception("agent %s could not answer hop %s", provider.name, hop.get("id"))

    def body_for(self, provider: SimProvider, hop: dict[str, Any]) -> dict[str, Any]:
        body = provider.records.answer_for(hop)
        if provider.behaviour == "sloppy" and body["response"] != "no_record" and self.rng.random() < self.sloppy_share:
            return {"response": "no_record", "no_record_reason": "searched the wrong switch (sloppy agent)"}
        return body

    def answer(self, provider: SimProvider, hop: dict[str, Any]) -> int:
        body = self.body_for(provider, hop)
        status = self.transport.answer(provider.key, hop["id"], body)
        if status == 200:
            self.answered += 1
        elif status not in (404, 409):
            self.errors += 1
            logger.warning("agent %s: hop %s answer refused with %s", provider.name, hop["id"], status)
        if self.on_answer is not None:
            self.on_answer(provider, hop, body, status)
        return status

    def answer_now(self, provider: SimProvider, hop: dict[str, Any]) -> int:
        """Synchronously (in-process tests): receive + answer unless silent/slow."""
        with self._seen_lock:
            if hop["id"] in self.seen:
                return 0
            self.seen.add(hop["id"])
        if provider.behaviour in ("silent", "slow", "human"):
            return 0
        return self.answer(provider, hop)

    def poll(self, providers: list[SimProvider] | None = None) -> int:
        """Catch up on requests whose webhook was missed (and the only way in for tests)."""
        n = 0
        for p in providers if providers is not None else self.net.providers:
            if not p.key:
                continue
            for hop in self.transport.open_hops(p.key):
                if hop["id"] not in self.seen:
                    self.receive(p, hop)
                    n += 1
        return n

    # --- the webhook hub --------------------------------------------------------------------

    def serve(self, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
        agents = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                try:
                    index = int(self.path.rstrip("/").rsplit("/", 1)[-1])
                    provider = agents.net.providers[index]
                    verify(provider.webhook_secret, dict(self.headers.items()), body)
                except (ValueError, IndexError, WebhookVerificationError) as exc:
                    self._reply(401, str(exc).encode())
                    return
                self._reply(204, b"")
                data = json.loads(body).get("data", {})
                if data.get("hop_id"):
                    agents.receive(provider, {"id": data["hop_id"], "kind": data.get("kind"), "call": data["call"], "status": data.get("status")})

            def _reply(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server = server
        return server

    @property
    def backlog(self) -> int:
        return self._work.qsize() + len(self._due)
