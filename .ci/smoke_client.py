"""Ask a running IsoGraph Explorer for pages as a browser would, with the standard library only.

``python .ci/smoke_client.py http://127.0.0.1:PORT /modules/M000 ...``: for each path, GET the page and
then POST Dash's page-routing callback for it (what the browser does after loading the page) and check
that the page's content comes back (HTTP 200, no error alert). Exits 1 with one line per failure.
"""

from __future__ import annotations

import json
import sys
import urllib.request


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.read()


def routing_callback(base: str) -> dict:
    """Dash pages' page-routing callback (``_pages_location`` -> ``_pages_content``) from /_dash-dependencies."""
    _, body = _get(base + "/_dash-dependencies")
    for callback in json.loads(body):
        inputs = {(i["id"], i["property"]) for i in callback["inputs"]}
        if ("_pages_location", "pathname") in inputs:
            return callback
    raise SystemExit("no page-routing callback in /_dash-dependencies")


def route_payload(base: str, callback: dict, path: str) -> bytes:
    """The JSON body the browser POSTs to /_dash-update-component to show ``path``."""
    pathname, _, search = path.partition("?")
    values = {"pathname": pathname, "search": "?" + search if search else "", "hash": "", "href": base + path}
    payload = {
        "output": callback["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in callback["output"].strip(".").split("...")],
        "inputs": [{**i, "value": values.get(i["property"])} for i in callback["inputs"]],
        "state": [{**s, "value": None} for s in callback["state"]],
        "changedPropIds": ["_pages_location.pathname"],
    }
    return json.dumps(payload).encode()


def _route(base: str, path: str) -> dict:
    """The page-container callback's answer for ``path``."""
    request = urllib.request.Request(base + "/_dash-update-component",
                                     data=route_payload(base, routing_callback(base), path),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def main(base: str, paths: list[str]) -> int:
    failures = []
    for path in paths:
        status, body = _get(base + path)
        if status != 200 or b"IsoGraph Explorer" not in body:
            failures.append(f"GET {path}: HTTP {status}")
            continue
        content = json.dumps(_route(base, path))
        if "page-error" in content or "Traceback" in content:
            failures.append(f"{path}: the page shows an error: {content[:300]}")
        else:
            print(f"smoke: {path} served ({len(content):,} bytes of page content)")
    for line in failures:
        print(f"smoke: {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2:]))
