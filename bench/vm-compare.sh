#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/vm-compare.sh [REPS]: boot the vmrig guest (qemu; TCG where KVM is
# unusable) against upstream passt 2026 (shared/bench/ref/passt) and
# gopasst's passt, each over vhost-user (-netdev vhost-user, guest memory
# shared) and over the stream socket (-netdev stream), REPS times each
# (default 2), alternating, in one run, with the rig's own demo
# (shared/vmrig/demo-passt.sh: a private namespace, a python http.server
# and iperf3 on its loopback). Prints, per test, the median of each and
# the ratios gopasst / upstream for each transport, and gopasst's
# vhost-user / stream.
#
# Tests (the demo's): HTTP 100 MiB guest <- host over IPv4 and IPv6 (MB/s,
# SHA-256 checked), iperf3 TCP guest -> host, host -> guest (-R), host ->
# guest through -t 5202, UDP guest -> host at 500 Mbit/s, ping and IPv6
# (pass/fail). Ratios are of the medians; for ping (ms) lower is better.
#
# Environment: VMC_IMPLS (default "ref-vu go-vu ref-stream go-stream"),
# VMC_REF (upstream's passt), VMRIG (the rig), and the demo's
# VMRIG_HTTP_MB, VMRIG_IPERF_SECS (default 5). vhost-user needs qemu >= 8
# (./dev deps installs it on Debian 12). Run it alone on the machine, under
# the integration tests' lock: flock /tmp/gopasst-itest.lock bench/vm-compare.sh
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"
reps=${1:-2}
# shared/ beside the repository (CI's layout), else /work/shared.
shared=../shared
[ -d "$shared/vmrig" ] || shared=/work/shared
rig=${VMRIG:-$shared/vmrig}
ref=${VMC_REF:-$shared/bench/ref/passt}
impls=${VMC_IMPLS:-ref-vu go-vu ref-stream go-stream}
[ -f "$rig/demo-passt.sh" ] || { echo "vm-compare: $rig/demo-passt.sh not found (set VMRIG)" >&2; exit 2; }
[ -x "$ref" ] || { echo "vm-compare: upstream passt $ref not found (set VMC_REF)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "vm-compare: needs root" >&2; exit 2; }
ref=$(readlink -f "$ref")
./dev build >/dev/null # bin/passt, bin/pasta -> passt
out=${TMPDIR:-/tmp}/vm-compare-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
# The rig's build (kernel, initramfs) is shared with the VM tests; its
# sockets and logs go under $out.
export VMRIG_WORK=$out/work
mkdir -p "$VMRIG_WORK"
cache=${GOPASST_VMRIG_WORK:-/tmp/gopasst-vmrig}/out
if [ -f "$cache/initramfs.cpio.gz" ]; then
	export VMRIG_OUT=$cache
fi
export VMRIG_IPERF_SECS=${VMRIG_IPERF_SECS:-5}

for i in $(seq 1 "$reps"); do
	for impl in $impls; do
		case $impl in
		ref-*) bin=$ref ;;
		go-*) bin=$PWD/bin/passt ;;
		*) echo "vm-compare: unknown implementation $impl" >&2; exit 2 ;;
		esac
		case $impl in
		*-vu) netdev=vhost-user ;;
		*-stream) netdev=stream ;;
		*) echo "vm-compare: unknown transport in $impl" >&2; exit 2 ;;
		esac
		log="$out/$impl-$i.log"
		echo "== run $i: $impl ($bin, $netdev)" >&2
		VMRIG_PASST=$bin VMRIG_NETDEV=$netdev bash "$rig/demo-passt.sh" >"$log" 2>&1 || true
		grep -oE 'VMTEST .*' "$log" >"$out/$impl-$i.vmtest" || true
		grep -oE 'VMRIG SUMMARY .*' "$log" >&2 || echo "   (no summary; see $log)" >&2
	done
done

python3 - "$out" "$reps" $impls <<'PY' | tee "$out/summary.md"
import os, statistics, sys
out, reps, impls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res = {}
for impl in impls:
    for i in range(1, reps + 1):
        p = os.path.join(out, "%s-%d.vmtest" % (impl, i))
        if not os.path.exists(p):
            continue
        for line in open(p):
            f = line.split()
            if len(f) < 2 or f[0] != "VMTEST" or f[1] != "RESULT":
                continue
            kv = dict(x.split("=", 1) for x in f[2:] if "=" in x)
            name, status, unit = kv.get("name"), kv.get("status"), kv.get("unit", "")
            try:
                v = float(kv.get("value", "")) if status == "ok" else None
            except ValueError:
                v = "ok"  # a passing test whose value is not a number (an address)
            if name:
                res.setdefault((name, unit), {}).setdefault(impl, []).append(v)

def med(xs):
    ok = [x for x in xs if x is not None]
    nums = [x for x in ok if x != "ok"]
    m = statistics.median(nums) if nums else ("ok" if ok else None)
    return (m, len(ok), len(xs))

def fmt(m):
    if m[2] == 0:
        return "-"
    if m[0] is None:
        return "fail (0/%d ok)" % m[2]
    if m[0] == "ok":
        return "ok (%d/%d)" % (m[1], m[2])
    return "%.3g (%d/%d ok)" % m

def ratio(a, b):
    if isinstance(a[0], float) and isinstance(b[0], float) and b[0]:
        return "%.2f" % (a[0] / b[0])
    return "-"

names = {"ref-vu": "upstream vhost-user", "go-vu": "gopasst vhost-user",
         "ref-stream": "upstream stream", "go-stream": "gopasst stream"}
ratios = [("go-vu", "ref-vu", "gopasst/upstream vhost-user"),
          ("go-stream", "ref-stream", "gopasst/upstream stream"),
          ("go-vu", "go-stream", "gopasst vhost-user/stream")]
ratios = [r for r in ratios if r[0] in impls and r[1] in impls]
cols = [names.get(i, i) for i in impls] + [r[2] for r in ratios]
print("| test | unit | " + " | ".join(cols) + " |")
print("|---|---|" + "---|" * len(cols))
for (name, unit), d in res.items():
    m = {i: med(d.get(i, [])) for i in impls}
    cells = [fmt(m[i]) for i in impls] + [ratio(m[a], m[b]) for a, b, _ in ratios]
    print("| %s | %s | %s |" % (name, unit, " | ".join(cells)))
PY
echo "logs: $out" >&2
