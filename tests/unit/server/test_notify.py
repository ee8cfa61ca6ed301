"""Webhook notifications against a real HTTP server on loopback (no internet)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.server.notify import NotifyError, Webhook, alerts_payload, slack_payload
from containment.server.reevaluate import Alert

ALERT = Alert(
    digest="sha256:" + "a" * 64,
    stage="prod",
    severity="critical",
    count=2,
    limit=0,
    gained=(("GHSA-flask", "Flask", "2.0.0"),),
    repositories=("127.0.0.1:5000/app",),
    key="sha256:" + "0" * 32,
)


class Receiver:
    """Answers each POST with the next scripted (status, headers) and records the bodies."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(n)))
                receiver.headers.append(dict(self.headers))
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_json_alerts_delivered(receiver: Receiver) -> None:
    hook = Webhook(receiver.url, headers={"X-Token": "s3cret"})
    d = hook.notify([ALERT])
    assert d is not None and d.ok and d.attempts == 1 and d.status == 200
    body = receiver.bodies[0]
    assert body["event"] == "findings.gained" and body["count"] == 1
    assert body["alerts"][0] == {
        "key": ALERT.key,  # the same in every delivery of this alert: receivers drop repeats
        "digest": ALERT.digest,
        "stage": "prod",
        "severity": "critical",
        "count": 2,
        "limit": 0,
        "gained": [{"id": "GHSA-flask", "package": "Flask", "version": "2.0.0"}],
        "repositories": ["127.0.0.1:5000/app"],
    }
    assert receiver.headers[0]["Content-Type"] == "application/json"
    assert receiver.headers[0]["X-Token"] == "s3cret"
    assert hook.notify([]) is None and len(receiver.bodies) == 1  # nothing to say: nothing sent


def test_any_text_travels(receiver: Receiver) -> None:
    odd = "caf\u00e9 \udcff \U0001f600 \x00"
    d = Webhook(receiver.url).send({"text": odd})
    assert d.ok and receiver.bodies == [{"text": odd}]


def test_slack_text(receiver: Receiver) -> None:
    d = Webhook(receiver.url, kind="slack").notify([ALERT, ALERT])
    assert d is not None and d.ok
    body = receiver.bodies[0]
    assert set(body) == {"text"}
    lines = body["text"].splitlines()
    assert lines[0] == "containment: 2 images gained findings over a stage's limit"
    assert lines[1].startswith("• 127.0.0.1:5000/app (sha256:aaaaaaaaaaaa) in stage prod: 2 critical")
    assert lines[1].endswith("over the limit 0; new: GHSA-flask")


def test_retries_on_5xx_and_429_then_succeeds(receiver: Receiver) -> None:
    receiver.script = [(503, {}), (429, {"Retry-After": "2"}), (200, {})]
    waits: list[float] = []
    d = Webhook(receiver.url, retries=3, backoff=0.25).send({"x": 1}, sleep=waits.append)
    assert d.ok and d.attempts == 3 and d.status == 200
    assert waits == [0.25, 2.0]  # doubling backoff, raised to the receiver's Retry-After
    assert receiver.bodies == [{"x": 1}] * 3


def test_no_retry_on_4xx(receiver: Receiver) -> None:
    receiver.script = [(400, {})]
    waits: list[float] = []
    d = Webhook(receiver.url, retries=5).send({"x": 1}, sleep=waits.append)
    assert not d.ok and d.attempts == 1 and d.status == 400 and "HTTP 400" in d.error
    assert waits == [] and len(receiver.bodies) == 1


def test_gives_up_after_retries(receiver: Receiver) -> None:
    receiver.script = [(500, {})] * 3
    waits: list[float] = []
    d = Webhook(receiver.url, retries=2, backoff=1).send({}, sleep=waits.append)
    assert not d.ok and d.attempts == 3 and d.status == 500
    assert waits == [1, 2]


def test_refused_connection_is_an_outcome_not_an_exception() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        waits: list[float] = []
        d = Webhook(f"http://127.0.0.1:{port}/", retries=2, timeout=2).send({}, sleep=waits.append)
    assert not d.ok and d.attempts == 3 and d.status == 0 and "refused" in d.error.lower()
    assert len(waits) == 2


@pytest.mark.parametrize(
    "kw",
    [
        {"url": "file:///etc/passwd"},
        {"url": "ftp://example.org/"},
        {"url": "http:///nohost"},
        {"url": "http://h/", "kind": "teams"},
        {"url": "http://h/", "retries": -1},
        {"url": "http://h/", "headers": {"X": "a\r\nInjected: 1"}},
    ],
)
def test_bad_configuration_refused(kw: dict[str, Any]) -> None:
    with pytest.raises(NotifyError):
        Webhook(**kw)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(
            Alert,
            digest=st.text(max_size=80),
            stage=st.text(max_size=40),
            severity=st.sampled_from(["critical", "high"]),
            count=st.integers(0, 10**6),
            limit=st.integers(0, 10**6),
            gained=st.lists(st.tuples(st.text(), st.text(), st.text()), max_size=5).map(tuple),
            repositories=st.lists(st.text(max_size=60), max_size=3).map(tuple),
        ),
        max_size=400,
    )
)
def test_payloads_are_json_and_bounded(alerts: list[Alert]) -> None:
    for payload in (alerts_payload(alerts), slack_payload(alerts)):
        raw = json.dumps(payload, ensure_ascii=False)
        assert json.loads(raw) == payload
    assert len(slack_payload(alerts)["text"]) <= 35_000
    assert alerts_payload(alerts)["count"] == len(alerts)
