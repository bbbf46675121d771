#!/usr/bin/env bash
# Load on `shotline serve` over loopback: N concurrent clients reading the shot grid of a project
# with SHOTS shots while one writer changes statuses through the API (every change moves the
# grid's change marker, so readers keep getting fresh grids, not only cached ones). Prints
# requests/s and p50/p99 latency of the full-grid read and of the write, the grid's size, and
# the grid page load: the dashboard's way (200 rows, then the rest; gzip) timed to the last row
# parsed, and, when chromium and chromedriver are installed, in a real headless Chromium (JSON
# fetched and every row drawn; the page's own timer).
# Usage: bench/server.sh [SHOTS=10000] [CLIENTS=8] [SECONDS=10]; WRITERS=0 measures reads of an
# unchanging grid (served from the cache), NO_BROWSER=1 skips Chromium.
# Binary: target/bench/release/shotline (`CARGO_TARGET_DIR=target/bench cargo build --release
# -p shotline`), else target/release/shotline, else target/debug/shotline (it says which).
set -euo pipefail
shots=${1:-10000}; clients=${2:-8}; secs=${3:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/bench/release/shotline
[[ -x $bin ]] || bin=$root/target/release/shotline
[[ -x $bin ]] || bin=$root/target/debug/shotline
work=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export SHOTLINE_USER=boss
"$bin" init --code BENCH >/dev/null
"$bin" step add COMP --kind shot >/dev/null
"$bin" step add LGT --kind shot >/dev/null
{ echo "code,sequence,in,out"; for i in $(seq 1 "$shots"); do printf 'SH%05d,SQ%03d,1001,1100\n' "$i" $((i / 100)); done; } > shots.csv
"$bin" shot import shots.csv >/dev/null
printf 'bench-password\n' | "$bin" user passwd boss >/dev/null
token=$("$bin" user token boss --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$bin" serve --bind 127.0.0.1:0 --json > serve.out 2>/dev/null & pid=$!
for _ in $(seq 100); do [[ -s serve.out ]] && break; sleep 0.1; done
addr=$(python3 -c 'import json; print(json.load(open("serve.out"))["listening"])')
chromium=$(command -v chromium || true); driver=$(command -v chromedriver || true)
[[ -z ${NO_BROWSER:-} ]] || chromium=""
echo "binary: $bin; shots: $shots; readers: $clients; writers: ${WRITERS:-1}; ${secs}s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$addr" "$token" "$clients" "$secs" "$shots" "$chromium" "$driver" <<'PY'
import gzip, http.client, json, os, subprocess, sys, tempfile, threading, time, urllib.parse
addr, token, clients, secs, shots, chromium, driver = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
host, port = addr.rsplit(":", 1)
hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
reads, writes, size, page_loads, browser = [], [], [0, 0], [], []
stop = time.monotonic() + secs
def get(c, path, extra=None, full=False):
    c.request("GET", path, headers={**hdr, **(extra or {})}); r = c.getresponse(); body = r.read()
    assert r.status == 200, (r.status, body[:200])
    if r.getheader("Content-Encoding") == "gzip":
        if full: size[1] = len(body)
        body = gzip.decompress(body)
    return body
def reader():
    c = http.client.HTTPConnection(host, int(port))
    while time.monotonic() < stop:
        t = time.monotonic(); body = get(c, "/api/v1/shots", {"Accept-Encoding": "gzip"}, True); json.loads(body)
        reads.append(time.monotonic() - t); size[0] = len(body)
def page_load():
    # What the dashboard does: the first 200 rows, then the rest in one request, gzip.
    c = http.client.HTTPConnection(host, int(port))
    while time.monotonic() < stop:
        t = time.monotonic(); cursor = ""; rows = 0
        while True:
            q = {"cursor": cursor} if cursor else {"limit": 200}
            p = json.loads(get(c, "/api/v1/shots?" + urllib.parse.urlencode(q), {"Accept-Encoding": "gzip"}))
            rows += len(p["shots"]); cursor = p["next_cursor"]
            if not cursor: break
        assert rows == shots, rows
        page_loads.append(time.monotonic() - t)
def writer():
    c = http.client.HTTPConnection(host, int(port)); i = 0
    while time.monotonic() < stop:
        i += 1; shot = "SH%05d" % (i % shots + 1)
        t = time.monotonic()
        c.request("PUT", f"/api/v1/shots/{shot}/steps/COMP/status", body=json.dumps({"state": "WIP", "completion": i % 100}), headers=hdr)
        r = c.getresponse(); r.read(); assert r.status == 200, r.status
        writes.append(time.monotonic() - t)
def wd(port_, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port_, timeout=120)
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
    r = c.getresponse(); return json.loads(r.read() or b"{}")
def in_chromium():
    # The dashboard in headless Chromium, logged in, while the load runs: the page's timer
    # (first grid request to last row appended) after a reload.
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    proc = subprocess.Popen([driver, f"--port={p}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try: socket.create_connection(("127.0.0.1", p), 1).close(); break
            except OSError: time.sleep(0.05)
        prof = tempfile.mkdtemp()
        sid = wd(p, "POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,800", "--user-data-dir=" + prof]}}}})["value"]["sessionId"]
        base = f"/session/{sid}"
        js = lambda script: wd(p, "POST", base + "/execute/sync", {"script": script, "args": []})["value"]
        wd(p, "POST", base + "/url", {"url": f"http://{addr}/"})
        js("fetch('/api/v1/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({user: 'boss', password: 'bench-password'})})")
        time.sleep(1)
        while time.monotonic() < stop - 1:
            wd(p, "POST", base + "/url", {"url": f"http://{addr}/#/shots"}); js("location.reload()")
            for _ in range(1200):
                ms = js("return document.body.dataset.gridMs || null")
                if ms: break
                time.sleep(0.05)
            # Every row loaded (a grid this large draws only the rows near the viewport).
            rows = js("return Number(document.body.dataset.gridRows || 0)")
            if ms and rows == shots: browser.append(int(ms) / 1000)
        wd(p, "DELETE", base)
    finally:
        proc.kill()
ts = [threading.Thread(target=reader) for _ in range(clients)] + [threading.Thread(target=page_load)]
ts += [threading.Thread(target=writer) for _ in range(int(os.environ.get("WRITERS", "1")))]
if chromium and driver: ts.append(threading.Thread(target=in_chromium))
[t.start() for t in ts]; [t.join() for t in ts]
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")
print(f"grid read : {len(reads)/secs:8.1f} req/s  p50 {pct(reads,.5):7.1f} ms  p99 {pct(reads,.99):7.1f} ms  ({size[0]/1e6:.1f} MB JSON, {size[1]/1e6:.2f} MB gzipped)")
if writes: print(f"status PUT: {len(writes)/secs:8.1f} req/s  p50 {pct(writes,.5):7.1f} ms  p99 {pct(writes,.99):7.1f} ms")
print(f"grid page load (first 200 rows, then the rest; gzip; all {shots} rows parsed): n={len(page_loads)} p50 {pct(page_loads,.5):7.1f} ms  p99 {pct(page_loads,.99):7.1f} ms")
if chromium and driver:
    print(f"grid page load in headless Chromium (fetched + drawn): n={len(browser)} p50 {pct(browser,.5):7.1f} ms  max {pct(browser,1):7.1f} ms")
PY
