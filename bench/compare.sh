#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/compare.sh [options] [-- netbench options]: run the shared harness
# (../shared/bench/netbench.sh) for gopasst's pasta and for upstream pasta
# 2026 (../shared/bench/ref/pasta) in one run, at MTU 65520 and at MTU 1500,
# and print the merged tables and the ratios: gopasst / upstream for every
# metric both have, and each tap direction against host loopback (measured
# in the same run).
#
#   bench/compare.sh                       # -t 3 -r 1, both MTUs
#   bench/compare.sh -t 5 -r 3 --mtus 65520
#   bench/compare.sh --ref /usr/bin/pasta  # Debian's 2023 pasta instead
#
# Options (anything else is passed to netbench.sh):
#   --ref BIN      the pasta to compare with (default ../shared/bench/ref/pasta,
#                  or $PASTA_REF)
#   --mtus LIST    comma-separated MTUs (default 65520,1500); at 65520 the
#                  tap and splice paths are measured, at other MTUs (-m) the
#                  tap paths only, without CRR
#   -t SECS, -r N  iperf3 duration and repetitions (default 3 and 1)
#
# CPU is the whole process tree of each tool (netbench.sh sums the
# launcher and gopasst's engine process; memory is read from the process
# named in the PID file). Every netbench run holds /tmp/gopasst-bench.lock
# (flock), so that benchmarks of several users of the machine do not
# overlap, and gopasst and upstream alternate at each MTU. The machine may
# be shared: treat figures as indicative, compare ratios within one run.
# Results go to ${TMPDIR:-/tmp}/netbench/{gopasst,upstream,loopback}-MTU-STAMP;
# the ratio tables are also written to bench/last-ratios.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

# ../shared beside the main checkout, ../../shared beside a worktree in wt/
shared=../shared/bench
[ -d "$shared" ] || shared=../../shared/bench
nb=${NETBENCH:-$shared/netbench.sh}
ref=${PASTA_REF:-$shared/ref/pasta}
mtus=65520,1500
secs=3 reps=1
pass=()
while (($#)); do
    case $1 in
    --ref) ref=$2; shift 2 ;;
    --mtus) mtus=$2; shift 2 ;;
    -t | --time) secs=$2; shift 2 ;;
    -r | --reps) reps=$2; shift 2 ;;
    -h | --help) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; pass+=("$@"); break ;;
    *) pass+=("$1"); shift ;;
    esac
done
[ -f "$nb" ] || { echo "compare: $nb not found (set NETBENCH)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "compare: needs root" >&2; exit 2; }
[ -e "$ref" ] || { echo "compare: reference pasta $ref not found (--ref, PASTA_REF)" >&2; exit 2; }
ref_shown=$ref
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -x "$ref" ] && [ "$(wc -c <"$ref")" -lt 256 ]; then
    # ref/pasta is a link stored as a file holding the target's name
    # ("passt"): run the target under the name pasta, which upstream
    # passt reads from argv[0] (it re-executes its .avx2 build by
    # /proc/self/exe, so the link must point at the real file).
    ref=$(dirname "$ref")/$(tr -d '\n' <"$ref")
fi
[ -x "$ref" ] || { echo "compare: $ref is not executable" >&2; exit 2; }
ln -s "$(readlink -f "$ref")" "$work/pasta"
ref=$work/pasta

./dev build >/dev/null # bin/passt, bin/pasta -> passt
stamp=$(date +%Y%m%d-%H%M%S)
base=${TMPDIR:-/tmp}/netbench
mkdir -p "$base"
lock=/tmp/gopasst-bench.lock
common=(-t "$secs" -r "$reps" "${pass[@]}")

# nbrun LABEL OUTDIR ARGS...: one netbench run under the machine's lock.
nbrun() {
    local label=$1 out=$2
    shift 2
    echo "compare: $label -> $out" >&2
    flock "$lock" bash "$nb" "${common[@]}" "$@" --label "$label" -o "$out"
}

rc=0
lo="$base/loopback-$stamp"
nbrun loopback "$lo" --skip udp,rr,crr loopback || rc=$?
dirs=()
IFS=, read -ra mtu_list <<<"$mtus"
for m in "${mtu_list[@]}"; do
    g="$base/gopasst-$m-$stamp" u="$base/upstream-$m-$stamp"
    if [ "$m" = 65520 ]; then
        args=(--skip udp --paths out-tap,in-tap,in-splice,out-splice)
    else
        args=(--skip udp,crr --paths out-tap,in-tap --tool-args "-m $m")
    fi
    nbrun "gopasst-$m" "$g" "${args[@]}" --cmd "$PWD/bin/pasta" || rc=$?
    nbrun "upstream-$m" "$u" "${args[@]}" --cmd "$ref" || rc=$?
    dirs+=("$m" "$g" "$u")
done

{
    echo "Command: bench/compare.sh --ref $ref_shown --mtus $mtus -t $secs -r $reps ${pass[*]}"
    echo "Run: $stamp, $(uname -r), $(nproc) CPUs, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    for ((i = 0; i < ${#dirs[@]}; i += 3)); do
        m=${dirs[i]} g=${dirs[i + 1]} u=${dirs[i + 2]}
        echo "## MTU $m"
        echo
        bash "$nb" report "$g" "$u" "$lo"
        echo
        python3 - "$m" "$g/summary.tsv" "$u/summary.tsv" "$lo/summary.tsv" <<'PY'
import sys
def load(p):
    d = {}
    try:
        lines = open(p).read().splitlines()
    except OSError:
        return d
    for line in lines:
        f = line.split("\t")
        if len(f) < 6 or f[0] == "label" or f[5] == "FAIL":
            continue
        try:
            d[(f[1], f[2], f[4])] = float(f[5])
        except ValueError:
            pass
    return d
mtu = sys.argv[1]
g, u, lo = load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
loop = max([v for k, v in lo.items() if k[2] == "tcp"] or [0])
print("### MTU %s: gopasst / upstream (same run; RR latency and CPU per Gbit: lower is better)" % mtu)
print()
print("| path | class | metric | gopasst | upstream | ratio |")
print("|---|---|---|---|---|---|")
for k in sorted(g):
    # the background load guard's own figures are no comparison
    if k in u and u[k] != 0 and not k[2].endswith("foreign_cpus"):
        print("| %s | %s | %s | %.4g | %.4g | %.2f |" % (k + (g[k], u[k], g[k] / u[k])))
print()
print("### MTU %s: tool CPU seconds per Gbit moved (whole process tree; lower is better)" % mtu)
print()
print("| path | test | gopasst | upstream | ratio |")
print("|---|---|---|---|---|")
suf = "_gbit_per_tool_cpu_s"
for k in sorted(g):
    if k[2].endswith(suf) and g[k] > 0:
        gs = 1 / g[k]
        us = 1 / u[k] if u.get(k, 0) > 0 else None
        print("| %s | %s | %.4f | %s | %s |" % (k[0], k[2][:-len(suf)], gs,
              "%.4f" % us if us else "-", "%.2f" % (gs / us) if us else "-"))
print()
if loop > 0:
    print("### MTU %s: bulk against host loopback (%.3g Gbit/s, same run)" % (mtu, loop))
    print()
    print("| path | test | gopasst | x loopback | upstream | x loopback |")
    print("|---|---|---|---|---|---|")
    for k in sorted(g):
        if k[2] in ("tcp", "tcp_rev"):
            uv = u.get(k)
            print("| %s | %s | %.4g | %.2f | %s | %s |" % (k[0], k[2], g[k], g[k] / loop,
                  "%.4g" % uv if uv is not None else "-", "%.2f" % (uv / loop) if uv is not None else "-"))
    print()
PY
    done
} | tee bench/last-ratios.md
exit $rc
