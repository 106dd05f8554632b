#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/splice-ab.sh [-n REPS] [-t SECS] [BIN [REF]]: tool CPU per Gbit on
# pasta's splice paths, gopasst against upstream pasta 2026, alternating,
# REPS runs of each (default 8) per path and direction, and the mean and
# standard deviation of each. On the splice paths the tool's CPU is mostly
# the kernel's TCP work of the sockets it splices into (the loopback
# receiver's softirq runs in the sender's system call), and one run moves
# by ±15%: compare.sh's one repetition cannot tell a few percent apart,
# this can.
#
#   bench/splice-ab.sh                 # bin/pasta against ../shared/bench/ref/pasta
#   bench/splice-ab.sh -n 4 -t 3
#
# Paths: in = host client to 127.0.0.1:PORT (-t PORT), the server in the
# namespace; out = namespace client to its 127.0.0.1:PORT (-T PORT), the
# server on host 127.0.0.1. Each with the data both ways (iperf3 and -R).
# The namespace is the test's own (unshare, held by a capability-less
# sleep); tools run as in netbench.sh (-f -q --runas 0 --config-net).
# CPU: utime + stime of the tool's process and of the process its PID
# file names, during the iperf3 run. Root. Holds /tmp/gopasst-bench.lock
# for each run.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

reps=8 secs=4
while getopts "n:t:" o; do
    case $o in
    n) reps=$OPTARG ;; t) secs=$OPTARG ;;
    *) sed -n '3,22p' "$0"; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
[ "$(id -u)" = 0 ] || { echo "splice-ab: needs root" >&2; exit 2; }
work=$(mktemp -d)
. bench/tools.sh
tool_dirs "$work" "$@"

res=$work/results
nsp="" tp=""
cleanup() {
    [ -n "$tp" ] && kill "$tp" 2>/dev/null || true
    [ -n "$nsp" ] && kill "$nsp" 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "${SPLICE_AB_KEEP:-}" ] && cp "$res" "$SPLICE_AB_KEEP"
    rm -rf "$work"
}
trap cleanup EXIT

# cpu PID...: clock ticks used so far by the distinct PIDs.
cpu() {
    local s=0 p
    for p in $(printf '%s\n' "$@" | sort -u); do
        [ -r "/proc/$p/stat" ] && s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$s"
}

# one IMPL PATH REV: appends "PATH [-R] IMPL Gbit/s CPU-seconds" to $res.
one() {
    local impl=$1 path=$2 rev=$3 port=$((21000 + RANDOM % 4000)) fwd pid srv t0 t1 gbps
    unshare --net -- setpriv --bounding-set=-all --inh-caps=-all sleep $((secs + 60)) &
    nsp=$!
    sleep 0.2
    nsenter -t "$nsp" -n ip link set lo up
    if [ "$path" = in ]; then fwd=(-t "$port"); else fwd=(-T "$port"); fi
    rm -f "$work/pid"
    "$work/$impl/pasta" -f -q --runas 0 --config-net "${fwd[@]}" -P "$work/pid" \
        --netns "/proc/$nsp/ns/net" > "$work/tool.log" 2>&1 &
    tp=$!
    for _ in $(seq 100); do [ -s "$work/pid" ] && break; sleep 0.1; done
    pid=$(< "$work/pid")
    sleep 0.5
    if [ "$path" = in ]; then
        # Not on the namespace's loopback: pasta splices -t connections to
        # the namespace's own address (unless --host-lo-to-ns-lo).
        nsenter -t "$nsp" -n timeout $((secs + 30)) iperf3 -s -1 -p "$port" > /dev/null 2>&1 &
    else
        timeout $((secs + 30)) iperf3 -s -1 -B 127.0.0.1 -p "$port" > /dev/null 2>&1 &
    fi
    srv=$!
    sleep 0.3
    t0=$(cpu "$tp" "$pid")
    if [ "$path" = in ]; then
        timeout $((secs + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$secs" $rev -f g > "$work/iperf.out" 2>&1 || true
    else
        nsenter -t "$nsp" -n timeout $((secs + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$secs" $rev -f g > "$work/iperf.out" 2>&1 || true
    fi
    t1=$(cpu "$tp" "$pid")
    gbps=$(awk '/receiver/ {print $7}' "$work/iperf.out")
    kill "$tp" 2>/dev/null || true
    wait "$tp" 2>/dev/null || true
    tp=""
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
    kill "$nsp" 2>/dev/null || true
    wait "$nsp" 2>/dev/null || true
    nsp=""
    echo "$path${rev:+ $rev} $impl ${gbps:-0} $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')" >> "$res"
}

echo "bench/splice-ab.sh -n $reps -t $secs: $(readlink -f "$work/go/pasta") against $(readlink -f "$work/up/pasta"), $(uname -r), $(nproc) CPUs"
for path in in out; do
    for rev in "" -R; do
        alternate "$reps" "$path" "$rev"
    done
done

# Per path and direction: mean Gbit/s, mean and sd of CPU-seconds per
# Gbit moved, and gopasst's mean over upstream's.
echo
echo "| path | data | gopasst Gbit/s | upstream Gbit/s | gopasst CPU-s/Gbit (sd) | upstream CPU-s/Gbit (sd) | ratio |"
echo "|---|---|---|---|---|---|---|"
awk -v secs="$secs" '
{
    k = $1 ($2 == "-R" ? " -R" : ""); impl = ($2 == "-R") ? $3 : $2
    g = ($2 == "-R") ? $4 : $3; c = ($2 == "-R") ? $5 : $4
    if (g <= 0) { bad[k impl]++; next }
    v = c / (g * secs)
    n[k, impl]++; s[k, impl] += v; ss[k, impl] += v * v; th[k, impl] += g
    if (!(k in seen)) { seen[k] = 1; order[++m] = k }
}
END {
    for (i = 1; i <= m; i++) {
        k = order[i]
        split(k, a, " "); path = a[1]
        data = (path == "in") == (a[2] == "-R") ? "ns->host" : "host->ns"
        for (j = 1; j <= 2; j++) {
            impl = j == 1 ? "go" : "up"
            mean[impl] = s[k, impl] / n[k, impl]
            sd[impl] = sqrt(ss[k, impl] / n[k, impl] - mean[impl] ^ 2)
            thr[impl] = th[k, impl] / n[k, impl]
        }
        printf "| %s-splice%s | %s | %.1f | %.1f | %.4f (%.4f) | %.4f (%.4f) | %.2f |\n", path, (a[2] == "-R" ? " -R" : ""), data,
            thr["go"], thr["up"], mean["go"], sd["go"], mean["up"], sd["up"], mean["go"] / mean["up"]
    }
}' "$res"
