#!/usr/bin/env bash
# Load on `shotline serve` over loopback: N concurrent clients reading the shot grid of a project
# with SHOTS shots while one writer changes statuses through the API. Prints requests/s and
# p50/p99 latency of the grid read and of the write, and the grid's size.
# Usage: bench/server.sh [SHOTS=10000] [CLIENTS=8] [SECONDS=10]
# Uses target/release/shotline when present, else target/debug/shotline (say which in results).
set -euo pipefail
shots=${1:-10000}; clients=${2:-8}; secs=${3:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release/shotline; [[ -x $bin ]] || bin=$root/target/debug/shotline
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
echo "binary: $bin; shots: $shots; readers: $clients; writer: 1; ${secs}s"
python3 - "$addr" "$token" "$clients" "$secs" "$shots" <<'PY'
import http.client, json, sys, threading, time
addr, token, clients, secs, shots = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
host, port = addr.rsplit(":", 1)
hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
reads, writes, size = [], [], [0]
stop = time.monotonic() + secs
def reader():
    c = http.client.HTTPConnection(host, int(port))
    while time.monotonic() < stop:
        t = time.monotonic(); c.request("GET", "/api/v1/shots", headers=hdr); r = c.getresponse(); body = r.read()
        assert r.status == 200, r.status
        reads.append(time.monotonic() - t); size[0] = len(body)
def writer():
    c = http.client.HTTPConnection(host, int(port)); i = 0
    while time.monotonic() < stop:
        i += 1; shot = "SH%05d" % (i % shots + 1)
        t = time.monotonic()
        c.request("PUT", f"/api/v1/shots/{shot}/steps/COMP/status", body=json.dumps({"state": "WIP", "completion": i % 100}), headers=hdr)
        r = c.getresponse(); r.read(); assert r.status == 200, r.status
        writes.append(time.monotonic() - t)
ts = [threading.Thread(target=reader) for _ in range(clients)] + [threading.Thread(target=writer)]
[t.start() for t in ts]; [t.join() for t in ts]
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000
print(f"grid read : {len(reads)/secs:8.1f} req/s  p50 {pct(reads,.5):7.1f} ms  p99 {pct(reads,.99):7.1f} ms  ({size[0]/1e6:.1f} MB JSON)")
print(f"status PUT: {len(writes)/secs:8.1f} req/s  p50 {pct(writes,.5):7.1f} ms  p99 {pct(writes,.99):7.1f} ms")
PY
