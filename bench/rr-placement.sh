#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/rr-placement.sh [-n REPS] [-c COUNT] [-p PATHS] [BIN [REF]]: the
# 1-byte TCP request/response round trip through pasta, gopasst against
# upstream pasta 2026, with the tool, the client and the server placed on
# fixed CPUs, and unpinned. On a 2-CPU guest the unpinned RR
# mean of either tool falls in one of a few modes (about 60, 78 and 90 µs
# here) set by where the scheduler happens to put the three processes,
# and a repetition stays in its mode: this shows each placement apart.
#
#   bench/rr-placement.sh               # bin/pasta against ../shared/bench/ref/pasta
#   bench/rr-placement.sh -n 5 -c 50000
#   bench/rr-placement.sh -p in-tap,out-tap,in-splice,out-splice
#
# Paths (PATHS, comma-separated; default in-tap), as netbench.sh's:
# in-tap, a host client to the host's address on a -t PORT, the server in
# the namespace; out-tap, a namespace client to its gateway's address,
# which pasta maps to the host, the server on the host; in-splice, a host
# client to 127.0.0.1 on a -t PORT; out-splice, a namespace client to its
# 127.0.0.1 on a -T PORT, the server on the host.
#
# Placements (E tool, C client, S server; CPUs 0 and 1): "free" (no
# pinning), "ECS|-" (all on CPU 0), "E|CS", "EC|S", "ES|C". Each
# repetition starts a fresh tool, namespace and server, pins the tool's
# every thread (taskset -a) and the two python processes, makes 2,000
# round trips to warm up, then COUNT (default 20,000) timed ones. The
# namespace is the test's own (unshare, held by a capability-less sleep)
# inside a "host" namespace of this script's with a veth whose address
# (10.200.0.1) the client connects to; tools run as in netbench.sh (-f -q
# --runas 0 --config-net). Root, 2 CPUs or more. Holds
# /tmp/gopasst-bench.lock for each repetition.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

reps=3 count=20000 paths=in-tap
while getopts "n:c:p:" o; do
    case $o in
    n) reps=$OPTARG ;; c) count=$OPTARG ;; p) paths=$OPTARG ;;
    *) sed -n '3,34p' "$0"; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
[ "$(id -u)" = 0 ] || { echo "rr-placement: needs root" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "rr-placement: needs 2 CPUs" >&2; exit 2; }
if [ -z "${RR_PLACEMENT_INNER:-}" ]; then
    # The "host" side gets a namespace of its own, as in netbench.sh.
    exec unshare --net env RR_PLACEMENT_INNER=1 bash "$0" -n "$reps" -c "$count" -p "$paths" "$@"
fi
work=$(mktemp -d)
. bench/tools.sh
tool_dirs "$work" "$@"

ip link set lo up
ip link add rrp0 type veth peer name rrp1
ip addr add 10.200.0.1/24 dev rrp0
ip link set rrp0 up
ip link set rrp1 up
ip route add default via 10.200.0.254

res=$work/results
all=0-$(($(nproc) - 1)) # "free": every CPU
nsp="" tp="" srv=""
cleanup() {
    local p
    for p in $tp $srv $nsp; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

server='
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
while True:
    b = c.recv(1)
    if not b: break
    c.sendall(b)
'
client='
import socket, sys, time
s = socket.create_connection((sys.argv[3], int(sys.argv[1])), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for _ in range(2000):
    s.sendall(b"x"); s.recv(1)
n = int(sys.argv[2]); t = time.perf_counter()
for _ in range(n):
    s.sendall(b"x")
    if not s.recv(1): raise SystemExit("closed")
print("%.2f" % ((time.perf_counter() - t) / n * 1e6))
'

# one IMPL PLACEMENT PATH: appends "PATH PLACEMENT IMPL MEAN_US" to $res.
one() {
    local impl=$1 pl=$2 path=$3 e c s port=$((21000 + RANDOM % 4000)) pid us
    local fwd srvns=() clins=() addr
    case $pl in
    free) e=$all c=$all s=$all ;;
    "ECS|-") e=0 c=0 s=0 ;;
    "E|CS") e=0 c=1 s=1 ;;
    "EC|S") e=0 c=0 s=1 ;;
    "ES|C") e=0 c=1 s=0 ;;
    esac
    unshare --net -- setpriv --bounding-set=-all --inh-caps=-all sleep 120 &
    nsp=$!
    sleep 0.2
    nsenter -t "$nsp" -n ip link set lo up
    case $path in
    in-tap) fwd=(-t "$port") srvns=(nsenter -t "$nsp" -n) addr=10.200.0.1 ;;
    in-splice) fwd=(-t "$port") srvns=(nsenter -t "$nsp" -n) addr=127.0.0.1 ;;
    out-tap) fwd=() clins=(nsenter -t "$nsp" -n) addr=10.200.0.254 ;;
    out-splice) fwd=(-T "$port") clins=(nsenter -t "$nsp" -n) addr=127.0.0.1 ;;
    *) echo "rr-placement: unknown path $path" >&2; exit 2 ;;
    esac
    rm -f "$work/pid"
    "$work/$impl/pasta" -f -q --runas 0 --config-net "${fwd[@]}" -P "$work/pid" \
        --netns "/proc/$nsp/ns/net" > "$work/tool.log" 2>&1 &
    tp=$!
    for _ in $(seq 100); do [ -s "$work/pid" ] && break; sleep 0.1; done
    pid=$(< "$work/pid")
    sleep 0.5
    # every thread of the launcher and of the engine process
    taskset -a -p -c "$e" "$tp" > /dev/null
    taskset -a -p -c "$e" "$pid" > /dev/null
    "${srvns[@]}" taskset -c "$s" timeout 100 python3 -c "$server" "$port" &
    srv=$!
    sleep 0.5
    us=$("${clins[@]}" taskset -c "$c" timeout 100 python3 -c "$client" "$port" "$count" "$addr" 2>> "$work/client.err" || echo FAIL)
    for p in $tp $srv $nsp; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    tp="" srv="" nsp=""
    echo "$path $pl $impl $us" >> "$res"
}

echo "bench/rr-placement.sh -n $reps -c $count -p $paths: $(readlink -f "$work/go/pasta") against $(readlink -f "$work/up/pasta"), $(uname -r), $(nproc) CPUs"
for path in ${paths//,/ }; do
    for pl in free "ECS|-" "E|CS" "EC|S" "ES|C"; do
        alternate "$reps" "$pl" "$path"
    done
done

# Per path and placement: every repetition, the median of each tool, and
# gopasst's median over upstream's.
echo
echo "| path | placement (E tool, C client, S server; CPU 0 \\| CPU 1) | gopasst µs | upstream µs | gopasst median | upstream median | ratio |"
echo "|---|---|---|---|---|---|---|"
python3 - "$res" <<'PY'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    path, pl, impl, us = line.split()
    if (path, pl) not in rows:
        rows[path, pl] = {"go": [], "up": []}
        order.append((path, pl))
    if us != "FAIL":
        rows[path, pl][impl].append(float(us))
for path, pl in order:
    g, u = rows[path, pl]["go"], rows[path, pl]["up"]
    gm = statistics.median(g) if g else float("nan")
    um = statistics.median(u) if u else float("nan")
    print("| %s | %s | %s | %s | %.1f | %.1f | %.2f |" % (path, pl.replace("|", "\\|"),
          " ".join("%.1f" % x for x in g), " ".join("%.1f" % x for x in u), gm, um, gm / um))
PY
if [ -s "$work/client.err" ]; then
    echo
    echo "client errors:"
    head -5 "$work/client.err"
fi
