"""`firstmark destination …` and `firstmark outbox …` as an operator uses them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from clitools import env, run

__all__ = ["env"]  # the fixture, imported for the tests below


def test_destinations_from_the_command_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "goal", "add", "purchase")[0] == 0
    (env / "creds.json").write_text(json.dumps({"access_token": "tok-secret-1"}))
    code, out, err = run(
        capsys, "destination", "add", "meta", "--name", "meta-eu",
        "--credential", "pixel_id=123", "--credentials-file", "creds.json",
        "--goal", "purchase=Purchase", "--option", "limited_data_use=true", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["credentials"] == {"access_token": "set", "pixel_id": "set"}
    assert data["options"] == {"limited_data_use": True}
    code, out, _ = run(capsys, "destination", "list")
    assert "meta-eu" in out and "purchase→Purchase" in out and "tok-secret-1" not in out
    code, out, _ = run(capsys, "destination", "disable", "meta-eu")
    assert code == 0 and "disabled" in out
    code, out, _ = run(capsys, "destination", "list", "--json")
    assert json.loads(out)["items"][0]["enabled"] is False
    code, out, err = run(capsys, "destination", "add", "meta", "--credential", "pixel_id=1")
    assert code == 1 and "access_token" in err
    code, out, err = run(capsys, "destination", "test", "nope")
    assert code == 1 and "no destination" in err


def test_outbox_status_replay_and_a_run_with_nothing_due(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "goal", "add", "purchase")
    run(capsys, "destination", "add", "ga4", "--credential", "measurement_id=G-1",
        "--credential", "api_secret=s", "--goal", "purchase=purchase")  # fmt: skip
    code, out, _ = run(capsys, "outbox", "status")
    assert code == 0 and "ga4" in out
    code, out, _ = run(capsys, "outbox", "status", "--json")
    assert json.loads(out)["total"]["pending"] == 0
    code, out, _ = run(capsys, "outbox", "replay", "--destination", "ga4")
    assert code == 0 and out.startswith("0 dead rows")
    code, out, _ = run(capsys, "outbox", "run", "--once")
    assert code == 0 and out.startswith("0 rows")


def test_destination_test_sends_one_event_and_prints_the_answer(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            received.append(
                {"path": self.path,
                 "body": json.loads(self.rfile.read(int(self.headers["content-length"])))}
            )  # fmt: skip
            raw = json.dumps({"events_received": 1, "fbtrace_id": "AbCdE"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run(capsys, "goal", "add", "purchase")
        add = (
            "destination", "add", "meta", "--credential", "pixel_id=42",
            "--credential", "access_token=tok-xyz", "--goal", "purchase=Purchase",
            "--option", "test_event_code=TEST77",
            "--endpoint-base", f"http://127.0.0.1:{server.server_address[1]}",
        )  # fmt: skip
        code, _, err = run(capsys, *add)
        assert code == 1 and "endpoint_base" in err and "refused: loopback address" in err
        monkeypatch.setenv("FIRSTMARK_DESTINATION_ALLOW_PRIVATE", "1")
        code, _, err = run(capsys, *add)
        assert code == 0, err
        code, out, err = run(capsys, "destination", "test", "meta")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, err
    assert "in the platform's test mode" in out and "HTTP 200: sent" in out
    assert "HTTP 200 OK" in out and "fbtrace_id" not in out and "tok-xyz" not in out
    [request] = received
    assert request["path"] == "/v25.0/42/events"
    body = request["body"]
    assert isinstance(body, dict) and body["test_event_code"] == "TEST77"
