"""A local stand-in for Twilio's REST API: records live-call updates, serves and deletes recordings.

The simulator runs it so a server under test (TWILIO_API_BASE pointed here) can transfer and
hang up live calls; the tests use it the same way.
"""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Callable
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class FakeTwilioApi:
    """What the bot asked of 'Twilio'; `fail_updates` makes the next N updates answer 500."""

    base_url: str = ""
    updates: list[dict] = field(default_factory=list)
    recordings: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    fail_updates: int = 0
    auth_seen: list[str] = field(default_factory=list)
    on_update: Callable[[dict], None] | None = None     # the simulator reacts to transfers

    def wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        """The fake's WSGI app."""
        request = Request(environ)
        self.auth_seen.append(request.authorization.username if request.authorization else "")
        return self._route(request)(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if request.method == "POST" and "/Calls/" in path:
            return self._update(request)
        if request.method == "GET" and "/Recordings/" in path:
            key = path.rsplit("/", 1)[-1].removesuffix(".wav")
            body = self.recordings.get(key)
            return Response(body, mimetype="audio/wav") if body is not None else Response("no", 404)
        if request.method == "DELETE" and "/Recordings/" in path:
            self.deleted.append(path.rsplit("/", 1)[-1].removesuffix(".json"))
            return Response("", 204)
        return Response("not found", 404)

    def _update(self, request: Request) -> Response:
        if self.fail_updates > 0:
            self.fail_updates -= 1
            return Response(json.dumps({"code": 20500, "message": "fake outage", "status": 500}),
                            500, mimetype="application/json")
        call_sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        update = {"call_sid": call_sid, **request.form.to_dict()}
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)
        return Response(json.dumps({"sid": call_sid, "status": "in-progress"}), mimetype="application/json")

    def recording_url(self, sid: str) -> str:
        """The RecordingUrl Twilio would post for a recording served by this fake."""
        return f"{self.base_url}/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/{sid}"


class _QuietHandler(WSGIRequestHandler):
    """No access log: the stand-in's requests are the simulator's business, not the operator's."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Nothing: what the server asked is kept in FakeTwilioApi.updates."""


def serve_fake_api(port: int = 0) -> tuple[FakeTwilioApi, Callable[[], None]]:
    """Run a fake API on a loopback port (0: any free one); returns it and a stop function."""
    api = FakeTwilioApi()
    # Bound here, so a busy port raises OSError for the caller to explain (werkzeug would print
    # its own advice and exit).
    with socket.create_server(("127.0.0.1", port)) as listening:
        port = listening.getsockname()[1]
        server = make_server("127.0.0.1", port, api.wsgi, threaded=True,
                             request_handler=_QuietHandler, fd=listening.fileno())
    api.base_url = f"http://127.0.0.1:{port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()     # free the port at once: the next simulated call reuses it
    return api, stop
