from __future__ import annotations

import json
from typing import Any

from robotrace.core.webhooks import headers_for, new_secret


def test_it_has_the_agent_reject_unsigned_webhooks(world) -> None:
    import requests

    from robotrace.agent.client import Agent
    from robotrace.agent.records import CallRecords

    class NoApi:
        def open_hops(self) -> list[Any]:
            return []

        def answer(self, hop_id: int, body: Any) -> tuple[int, Any]:
            return 200, {}

    secret = new_secret()
    agent = Agent(NoApi(), lambda: CallRecords())  # type: ignore[arg-type]  # ApiClient's stand-in
    server = agent.serve_webhooks(0, secret, host="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        body = json.dumps({"type": "hop.requested", "data": {}}).encode()
        assert requests.post(url, data=body, timeout=5).status_code == 401
        assert requests.post(url, data=body, headers=headers_for(new_secret(), body), timeout=5).status_code == 401
        assert requests.post(url, data=body, headers=headers_for(secret, body), timeout=5).status_code == 204
    finally:
        server.shutdown()
