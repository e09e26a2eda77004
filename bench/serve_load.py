"""Benchmark: many clients on the module and gene views, embedded server against production mode.

The bench starts each server itself on 127.0.0.1 (a free port, its own fresh cache folder), waits until it
answers, visits every view once (the first visit, which builds it; timed apart), then lets ``--clients``
threads ask for the views for ``--seconds`` seconds, each request being what the browser sends to show a
page (Dash's page-routing callback, as ``.ci/smoke_client.py`` sends it), and stops the server. Every
server is stopped by the bench, also on Ctrl-C or an error, and every request has a timeout, so the run is
bounded.

Servers (in this order, one at a time, same views):
- ``embedded, no view cache``: ``python app.py --no-view-cache`` — Flask's development server, one process,
  every view built afresh (the app before cached views);
- ``embedded``: ``python app.py`` — the same server, views from the diskcache view cache;
- ``production``: ``python app.py --workers W --redis-url ...`` — gunicorn, W processes, views from Redis
  (a private ``redis-server`` the bench starts when Debian's is installed; else diskcache, and it says so).

Views: every module page and the page of each module's top driver gene (``--modules`` limits them).

Run: ``python bench/serve_load.py [--data-root demo_data] [--clients 20] [--seconds 60] [--workers 4]``
(about 4 minutes with the defaults; without ``--data-root`` the demo is built into a temporary folder
first, about a minute). Prints requests/s, p50 and p95 per server and the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / ".ci"))
sys.path.insert(0, str(REPO))

from smoke_client import route_payload, routing_callback  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(command: list[str], log: Path, env: dict | None = None):
    """Run ``command`` in its own process group; stop the whole group on exit."""
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        yield proc
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=wait)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue


def wait_until_up(base: str, proc: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"no server at {base} after {timeout:.0f} s: {log.read_text()[-2000:]}")


def ask(base: str, body: bytes, timeout: float = 120.0) -> tuple[float, int, int]:
    """(seconds, HTTP status, response bytes) of one page-routing request (status 0: no answer)."""
    request = urllib.request.Request(base + "/_dash-update-component", data=body,
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            size = len(response.read())
            status = response.status
    except urllib.error.HTTPError as exc:
        size, status = 0, exc.code
    except (urllib.error.URLError, OSError):
        size, status = 0, 0
    return time.perf_counter() - start, status, size


def load(base: str, bodies: list[bytes], clients: int, seconds: float) -> dict:
    """``clients`` threads asking for the views in random order for ``seconds`` seconds."""
    results: list[tuple[float, int, int]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            result = ask(base, rng.choice(bodies), timeout=max(5.0, stop - time.monotonic() + 30))
            with lock:
                results.append(result)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 150)
    elapsed = time.monotonic() - start
    latency = np.array([r[0] for r in results])
    ok = np.array([r[1] == 200 for r in results])
    return {"requests": len(results), "per_s": len(results) / elapsed, "p50": float(np.percentile(latency, 50)),
            "p95": float(np.percentile(latency, 95)), "max": float(latency.max()), "errors": int((~ok).sum()),
            "kib": float(np.mean([r[2] for r in results])) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="a data root with the demo (default: build one in a temporary folder)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of production mode")
    parser.add_argument("--modules", type=int, default=0, help="views of the first N modules only (0: all)")
    parser.add_argument("--servers", default="embedded-uncached,embedded,production")
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}; {args.clients} clients x {args.seconds:.0f} s per server")

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="isograph-serve-load-")))
        root = Path(args.data_root).resolve() if args.data_root else tmp / "demo"
        if not args.data_root:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "isograph.cli", "demo", "--out", str(root)], cwd=REPO, check=True,
                           stdout=subprocess.DEVNULL)
            print(f"demo built in {time.perf_counter() - t0:.0f} s (not timed)")
        from isograph.dataset.datasets import find_datasets

        ds = find_datasets(root)[0]
        modules = ds.module_ids[:args.modules or None]
        paths = [f"/modules/{m}" for m in modules]
        paths += [f"/genes/{ds.explain.table(m, 'gene_driver_table')['gene_id'].iloc[0]}?module={m}" for m in modules]
        print(f"views: {len(paths)} ({len(modules)} module pages and their top driver genes' pages) of {root}")

        redis_url = None
        if "production" in args.servers and shutil.which("redis-server"):
            port = free_port()
            stack.enter_context(process(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(tmp)], tmp / "redis.log"))
            redis_url = f"redis://127.0.0.1:{port}/0"
            time.sleep(0.5)

        commands = {
            "embedded-uncached": ["--no-view-cache"],
            "embedded": [],
            "production": ["--workers", str(args.workers)] + (["--redis-url", redis_url] if redis_url else []),
        }
        rows = {}
        for name in args.servers.split(","):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log = tmp / f"{name}.log"
            env = {"ISOGRAPH_CACHE_DIR": str(tmp / f"cache-{name}"), "TMPDIR": str(tmp / f"cache-{name}")}
            Path(env["TMPDIR"]).mkdir()
            with process([sys.executable, "app.py", "--data-root", str(root), "--port", str(port), *commands[name]],
                         log, env) as proc:
                wait_until_up(base, proc, log)
                callback = routing_callback(base)
                bodies = [route_payload(base, callback, path) for path in paths]
                first = [ask(base, body) for body in bodies]  # the first visit builds each view
                bad = [p for p, r in zip(paths, first) if r[1] != 200]
                if bad:
                    raise SystemExit(f"{name}: {bad[0]} answered HTTP {first[0][1]}: {log.read_text()[-2000:]}")
                rows[name] = load(base, bodies, args.clients, args.seconds)
                rows[name]["first"] = float(np.median([r[0] for r in first]))
            label = name + (f" ({args.workers} workers, views in "
                            + ("Redis" if redis_url else "diskcache: no redis-server") + ")" if name == "production" else "")
            r = rows[name]
            print(f"{label}: {r['requests']} requests, {r['per_s']:.1f}/s, p50 {r['p50']:.2f} s, p95 {r['p95']:.2f} s,"
                  f" max {r['max']:.2f} s, {r['errors']} errors, mean response {r['kib']:.0f} KiB; first visit"
                  f" median {r['first']:.2f} s")
        if "production" in rows:
            for other in ("embedded", "embedded-uncached"):
                if other in rows:
                    p, o = rows["production"], rows[other]
                    print(f"production / {other}: throughput {p['per_s'] / o['per_s']:.1f}x, p95"
                          f" {o['p95'] / p['p95']:.1f}x lower")


if __name__ == "__main__":
    main()
