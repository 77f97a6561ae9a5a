"""``counterpromo dev`` as a subprocess: up, a render through the worker, then Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from counterpromo_cli.demo_client import DemoClient
from counterpromo_cli.testing import Cli
from counterpromo_testing import free_port
from counterpromo_testing.ports import port_in_use

KEY = re.compile(r"cpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
STARTUP_TIMEOUT = 180.0


class DevProcess:
    def __init__(self, cwd: Path, api_port: int, pg_port: int, aws_port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["PYTHONUNBUFFERED"] = "1"
        self.ports = {"api": api_port, "postgres": pg_port, "aws": aws_port}
        self.data_dir = cwd / ".local"
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "counterpromo"),
                "dev",
                "--api-port",
                str(api_port),
                "--postgres-port",
                str(pg_port),
                "--aws-port",
                str(aws_port),
            ],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = STARTUP_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.output.append(line)
            if text in line:
                return "".join(self.output)
        raise AssertionError(f"no {text!r} from counterpromo dev:\n{''.join(self.output)}")


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevProcess]:
    process = DevProcess(tmp_path, free_port(), free_port(), free_port())
    yield process
    if process.process.poll() is None:
        process.process.send_signal(signal.SIGINT)
        process.process.wait(60)


def _render_and_download(api: str, key: str) -> bytes:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
        created = client.post(
            "/v1/promos",
            json={
                "title": "Weekend Timber Sale",
                "items": [
                    {"sku": "TIM-1", "name": "C24 Timber 47x100 4.8m", "sale_price": "11.95"},
                    {"sku": "PLY-1", "name": "Plywood 18mm", "sale_price": "32.50"},
                ],
            },
        )
        assert created.status_code == 201, created.text
        promo_id = created.json()["id"]
        render = client.post(f"/v1/promos/{promo_id}/renders", json={})
        assert render.status_code == 202, render.text
        job_id = render.json()["id"]
        deadline = time.monotonic() + 120
        job = client.get(f"/v1/jobs/{job_id}").json()
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded", job
        outputs = client.get(f"/v1/promos/{promo_id}/assets").json()
        pdf = next(a for a in outputs if a["kind"] == "pdf")
        redirect = client.get(f"/v1/assets/{pdf['id']}/download")
        assert redirect.status_code == 302, redirect.text
    download = httpx.get(redirect.headers["location"], timeout=30)
    assert download.status_code == 200
    return download.content


def _checkout_pay_and_upgrade(api: str, key: str) -> None:
    """Billing with no Stripe account: the checkout URL is the fake's page; Pay upgrades."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
        started = client.post("/v1/billing/checkout", json={"plan_code": "pro"})
        assert started.status_code == 200, started.text
        url = started.json()["url"]
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200
        assert "Pay" in page.text
    # What `counterpromo demo --billing pro` does: the open session is reused, Pay pressed.
    demo = DemoClient(api, key)
    try:
        billing = demo.subscribe("pro")
    finally:
        demo.close()
    assert (billing["plan_code"], billing["subscription_status"]) == ("pro", "active")
    assert billing["current_period_end"] is not None


def _busy_api_port_fails(cwd: Path, port: int) -> None:
    busy = subprocess.run(
        [str(Path(sys.executable).parent / "counterpromo"), "dev", "--api-port", str(port)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert busy.returncode == 1
    lines = [line for line in busy.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, busy.stderr
    assert f"port {port}" in lines[0]
    assert "Traceback" not in busy.stderr


def test_dev_serves_renders_stops_cleanly_and_reuses_data(dev: DevProcess, tmp_path: Path) -> None:
    banner = dev.wait_for("Press Ctrl-C to stop.")
    assert "(created)" in banner
    key = KEY.search(banner)
    assert key is not None, banner
    api = f"http://127.0.0.1:{dev.ports['api']}"
    assert httpx.get(f"{api}/ready", timeout=5).status_code == 200
    _busy_api_port_fails(tmp_path, dev.ports["api"])

    assert _render_and_download(api, key.group()).startswith(b"%PDF")
    assert "fake: checkout pages pay" in banner
    _checkout_pay_and_upgrade(api, key.group())

    children = psutil.Process(dev.process.pid).children(recursive=True)
    assert {"counterpromo-api", "counterpromo-worker"} <= {
        Path(arg).name for child in children for arg in child.cmdline()[:2]
    }
    dev.process.send_signal(signal.SIGINT)
    assert dev.process.wait(60) == 0
    dev.wait_for("stopped", timeout=5)
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert not (dev.data_dir / "postgres" / "pgdata" / "postmaster.pid").exists(), dev.output
    for name, port in dev.ports.items():
        assert not port_in_use(port), f"{name} port {port} still in use"

    again = DevProcess(tmp_path, free_port(), free_port(), free_port())
    try:
        second = again.wait_for("Press Ctrl-C to stop.")
        assert "(reused)" in second
        new_key = KEY.search(second)
        assert new_key is not None
        assert new_key.group() != key.group()
        whoami = httpx.get(
            f"http://127.0.0.1:{again.ports['api']}/v1/promos",
            headers={"Authorization": f"Bearer {new_key.group()}"},
            timeout=10,
        )
        assert whoami.status_code == 200
        assert len(whoami.json()["items"]) == 2  # the sample promo and the one made above

        demo = Cli().run(
            "demo",
            "--api-url",
            f"http://127.0.0.1:{again.ports['api']}",
            "--api-key",
            new_key.group(),
            "--output-dir",
            str(tmp_path / "out"),
        )
        assert demo.exit_code == 0, demo.output
        assert "12 items" in demo.stdout
        pdf, png = sorted((tmp_path / "out").iterdir())
        assert pdf.read_bytes().startswith(b"%PDF")
        assert png.read_bytes().startswith(b"\x89PNG")
    finally:
        again.process.send_signal(signal.SIGINT)
        assert again.process.wait(60) == 0


def test_demo_against_an_unreachable_api_is_one_line(tmp_path: Path) -> None:
    line = Cli().error_line(
        "demo",
        "--api-url",
        f"http://127.0.0.1:{free_port()}",
        "--api-key",
        "cpk_000000000000_" + "x" * 43,
        "--output-dir",
        str(tmp_path),
    )
    assert "cannot reach the API" in line
    assert list(tmp_path.iterdir()) == []
