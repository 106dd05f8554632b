#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/compare.sh [netbench options]: run the shared harness
# (../shared/bench/netbench.sh) for gopasst's pasta and for the C pasta of
# Debian's passt package in one run, print the merged table and the ratios
# gopasst / C pasta for every metric both have.
#
#   bench/compare.sh                       # tap paths, -t 5, 3 repetitions
#   bench/compare.sh -t 10 -r 5 --paths out-tap,in-tap
#
# Default paths are the tap paths (out-tap, in-tap): gopasst has no splice
# path yet, and the comparison is meant to be like for like. Results go to
# ${TMPDIR:-/tmp}/netbench/{gopasst,pasta-c}-TIMESTAMP; the ratio table is
# also written to bench/last-ratios.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

nb=${NETBENCH:-../shared/bench/netbench.sh}
[ -f "$nb" ] || { echo "compare: $nb not found (set NETBENCH)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "compare: needs root" >&2; exit 2; }
command -v pasta >/dev/null || { echo "compare: the C pasta (Debian package passt) is missing" >&2; exit 2; }

args=("$@")
have_paths=0 have_skip=0
for a in "${args[@]}"; do
    [ "$a" = --paths ] && have_paths=1
    [ "$a" = --skip ] && have_skip=1
done
[ $have_paths = 1 ] || args+=(--paths out-tap,in-tap)
# cmd/pasta has no UDP handler wired yet: a failing UDP test costs three
# 30 s attempts per path. Pass --skip yourself to measure it.
[ $have_skip = 1 ] || args+=(--skip udp)

# gopasst's pasta runs as a launcher and an engine process (see
# cmd/pasta): with -f, $! in netbench is the launcher, which uses no CPU,
# while the PID file names the engine. Measure the PID in the PID file
# instead, for both tools (for the C pasta they are the same process).
# netbench.sh is shared, so the change is made to a private copy.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed '/wait_for 15 "pasta pid file" test -s "\$pidfile" || return 1/a\
    TOOL_PID=$(< "$pidfile"); PIDS+=("$TOOL_PID")  # bench/compare.sh: measure the engine' \
    "$nb" > "$work/netbench.sh"
grep -q 'bench/compare.sh: measure the engine' "$work/netbench.sh" ||
    { echo "compare: cannot patch $nb (start_pasta changed?)" >&2; exit 2; }
nb=$work/netbench.sh

./dev build >/dev/null  # bin/passt, bin/pasta -> passt
stamp=$(date +%Y%m%d-%H%M%S)
base=${TMPDIR:-/tmp}/netbench
mkdir -p "$base"
g="$base/gopasst-$stamp" c="$base/pasta-c-$stamp"

rc=0
bash "$nb" "${args[@]}" --cmd "$PWD/bin/pasta" --label gopasst -o "$g" || rc=$?
bash "$nb" "${args[@]}" --label pasta-c -o "$c" pasta || rc=$?

echo
echo "### Merged table"
bash "$nb" report "$g" "$c"
echo
echo "### Ratios gopasst / C pasta (same run; for RR latency lower is better)"
python3 - "$g/summary.tsv" "$c/summary.tsv" <<'PY' | tee bench/last-ratios.md
import sys
def load(p):
    d = {}
    for line in open(p):
        f = line.rstrip("\n").split("\t")
        if f[0] == "label" or f[5] == "FAIL":
            continue
        try:
            d[(f[1], f[2], f[4])] = float(f[5])
        except ValueError:
            pass
    return d
g, c = load(sys.argv[1]), load(sys.argv[2])
print("| path | class | metric | gopasst | C pasta | ratio |")
print("|---|---|---|---|---|---|")
for k in sorted(g):
    if k in c and c[k] != 0:
        print("| %s | %s | %s | %.4g | %.4g | %.2f |" % (k + (g[k], c[k], g[k] / c[k])))
print()
print("Tool CPU seconds per GB moved (8 / Gbit per tool CPU-second; lower is better):")
print()
print("| path | test | gopasst | C pasta | ratio |")
print("|---|---|---|---|---|")
suf = "_gbit_per_tool_cpu_s"
for k in sorted(g):
    if k[2].endswith(suf) and g[k] > 0:
        gs = 8 / g[k]
        cs = 8 / c[k] if c.get(k, 0) > 0 else None
        print("| %s | %s | %.3f | %s | %s |" % (k[0], k[2][:-len(suf)], gs,
              "%.3f" % cs if cs else "-", "%.2f" % (gs / cs) if cs else "-"))
PY
exit $rc
