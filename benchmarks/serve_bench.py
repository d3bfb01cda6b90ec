"""The channel service under load: `orchestrate serve` as a subprocess on 127.0.0.1, clients as
threads with keep-alive connections (http.client).

  repodata.json (a channel of `packages` records) requests/s and p50/p99 latency at 1 and 20
  concurrent clients, with a read token in the path; uploads/s of distinct tiny packages
  (built by rattler-build) at 1 and 20 concurrent clients, each re-indexing the channel.

  .venv/bin/python benchmarks/serve_bench.py [--smoke] [--work DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
WORKSPACE = '[workspace]\nname = "bench"\n[serve]\nroot = "served"\nchannels = ["testing"]\n'


def orchestrate(work: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "orchestrator", "-C", str(work), *args],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def start_server(work: Path) -> tuple[subprocess.Popen, str, int]:
    server = subprocess.Popen([sys.executable, "-m", "orchestrator", "-C", str(work), "serve",
                               "--port", "0"], stderr=subprocess.PIPE, text=True)
    while line := server.stderr.readline():
        if "Uvicorn running on" in line:
            port = int(line.split("running on ")[1].split()[0].rsplit(":", 1)[1])
            threading.Thread(target=server.stderr.read, daemon=True).start()  # drain the log
            return server, "127.0.0.1", port
    raise RuntimeError("orchestrate serve did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(host: str, port: int, clients: int, work_items: list, one) -> dict:
    """Run `one(connection, item)` for every item on `clients` threads; rate and latencies."""
    chunks = [work_items[i::clients] for i in range(clients)]
    latencies: list[float] = []

    def client(items):
        connection = http.client.HTTPConnection(host, port, timeout=120)
        mine = []
        for item in items:
            started = time.perf_counter()
            one(connection, item)
            mine.append(time.perf_counter() - started)
        connection.close()
        return mine

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for mine in pool.map(client, chunks):
            latencies += mine
    elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(work_items), "per_s": len(work_items) / elapsed,
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000}


def get_repodata(path: str):
    def one(connection, _item):
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200 and body, response.status
    return one


def upload_one(token: str):
    def one(connection, package: Path):
        connection.request("POST", f"/api/channels/testing/upload?filename={package.name}",
                           body=package.read_bytes(),
                           headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        assert response.status == 201, response.status
    return one


def measure_serve(work: Path, smoke: bool = False) -> dict:
    from serve_support import build_tiny_packages

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "WORKSPACE.toml").write_text(WORKSPACE)
    uploads = 20 if smoke else 60
    first = build_tiny_packages(work / "pkgs-a", uploads, name="bench-a")
    second = build_tiny_packages(work / "pkgs-b", uploads, name="bench-b")
    upload_token = orchestrate(work, "token", "create", "--channel", "testing", "--scope",
                               "upload")
    server, host, port = start_server(work)
    try:
        figures = {"uploads": [load(host, port, 1, first, upload_one(upload_token)),
                               load(host, port, 20, second, upload_one(upload_token))]}
        repodata = work / "served" / "testing" / "noarch" / "repodata.json"
        records = len(json.loads(repodata.read_text())["packages.conda"])
        path = f"/t/{upload_token}/testing/noarch/repodata.json"
        count = 200 if smoke else 2000
        figures["repodata"] = [load(host, port, c, list(range(count)), get_repodata(path))
                               for c in (1, 20)]
        figures["repodata_records"] = records
        figures["repodata_bytes"] = repodata.stat().st_size
    finally:
        server.terminate()
        server.wait(30)
    return figures


def serve_markdown(figures: dict) -> str:
    lines = [f"repodata.json of {figures['repodata_records']} records "
             f"({figures['repodata_bytes']:,} bytes) through `/t/<token>/`; uploads of distinct "
             "tiny .conda packages (each validated, published and re-indexed). One server "
             "process (uvicorn), clients on the same 2 cores.\n",
             "| what | clients | requests | per second | p50 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for what, key in (("GET repodata.json", "repodata"), ("POST upload", "uploads")):
        for f in figures[key]:
            lines.append(f"| {what} | {f['clients']} | {f['requests']} | {f['per_s']:.1f} | "
                         f"{f['p50_ms']:.1f} | {f['p99_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("/tmp/orchestrate-bench-serve"))
    args = parser.parse_args(argv)
    figures = measure_serve(args.work, args.smoke)
    print(serve_markdown(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
