#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/profile.sh [-R] [-m MTU] [-t SECS] [-p] [BIN]: one iperf3 run over
# the tap of a pasta-compatible binary (default: gopasst's, built to
# bin/pasta), in a namespace of its own, towards an iperf3 server on host
# 127.0.0.1 through the mapped gateway; -R for host → namespace. Prints
# the iperf3 summary and the engine's CPU ticks; with -p, records a CPU
# profile of the engine process with perf (frame pointers: -g works for
# Go) and prints the top symbols.
#
#   bench/profile.sh -p            # namespace → host, MTU 65520, 6 s
#   bench/profile.sh -p -R         # host → namespace
#   bench/profile.sh -m 1500 /usr/bin/pasta
#
# Root; only loopback and the namespace it creates. Used for the "where
# the time goes" section of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

rev="" mtu="" secs=6 perf=0
while getopts "Rm:t:p" o; do
    case $o in
    R) rev=-R ;; m) mtu=$OPTARG ;; t) secs=$OPTARG ;; p) perf=1 ;;
    *) sed -n '3,20p' "$0"; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
bin=${1:-}
if [ -z "$bin" ]; then
    ./dev build >/dev/null  # bin/passt, bin/pasta -> passt
    bin=$PWD/bin/pasta
fi
[ "$(id -u)" = 0 ] || { echo "profile: needs root" >&2; exit 2; }

work=$(mktemp -d)
ns=gpprof$$ port=$((20000 + $$ % 10000))
pid="" srv=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    [ -n "$srv" ] && kill "$srv" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
args=(--config-net -I gptcp -P "$work/pid")
[ -n "$mtu" ] && args+=(-m "$mtu")
case $bin in
*/usr/bin/pasta | pasta) args+=(--runas 0) ;;
esac
"$bin" "${args[@]}" --netns "$ns" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
for _ in $(seq 50); do [ -s "$work/pid" ] && break; sleep 0.1; done
pid=$(< "$work/pid")
timeout $((secs + 30)) iperf3 -s -1 -B 127.0.0.1 -p "$port" > /dev/null 2>&1 &
srv=$!
sleep 0.3
gw=$(ip -n "$ns" -4 route show default | awk '{print $3; exit}')
pp=""
if [ $perf = 1 ]; then
    perf record -F 2000 -g -p "$pid" -o "$work/perf.data" -- sleep $((secs - 1)) > /dev/null 2>&1 &
    pp=$!
fi
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(ticks)
ip netns exec "$ns" iperf3 -c "$gw" -p "$port" -t "$secs" $rev -f g | grep -E "sender|receiver"
c1=$(ticks)
echo "engine CPU: $(( (c1 - c0) * 100 / $(getconf CLK_TCK) / secs ))% of one CPU"
if [ -n "$pp" ]; then
    wait "$pp" || true
    # The engine's root is empty (sandbox): while it lives, perf looks for
    # its binary there and finds no symbols. Stop it first.
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    pid=""
    perf report -i "$work/perf.data" --no-children --sort sym --percent-limit 1 --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -25
fi
