#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/vm-compare.sh [REPS]: boot the vmrig guest (qemu; TCG where KVM is
# unusable) against Debian's C passt and against gopasst's passt, REPS times
# each (default 2), alternating, in one run, with the rig's own demo
# (../shared/vmrig/demo-passt.sh: a private namespace, a python http.server
# and iperf3 on its loopback). Prints, per test, the median of each and the
# ratio gopasst / C passt.
#
# Tests: HTTP 100 MiB guest <- host (MB/s, SHA-256 checked), iperf3 TCP
# guest -> host, host -> guest (-R), host -> guest through -t 5202, UDP
# guest -> host at 500 Mbit/s, ping and IPv6 (pass/fail).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"
reps=${1:-2}
rig=${VMRIG:-../shared/vmrig}
[ -f "$rig/demo-passt.sh" ] || { echo "vm-compare: $rig/demo-passt.sh not found (set VMRIG)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "vm-compare: needs root" >&2; exit 2; }
./dev build >/dev/null  # bin/passt, bin/pasta -> passt
out=${TMPDIR:-/tmp}/vm-compare-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
export VMRIG_WORK=${VMRIG_WORK:-/tmp/gopasst-vmrig}
export VMRIG_IPERF_SECS=${VMRIG_IPERF_SECS:-5}

for i in $(seq 1 "$reps"); do
	for impl in passt-c gopasst; do
		log="$out/$impl-$i.log"
		echo "== run $i: $impl" >&2
		if [ $impl = gopasst ]; then
			VMRIG_PASST="$PWD/bin/passt" bash "$rig/demo-passt.sh" >"$log" 2>&1 || true
		else
			bash "$rig/demo-passt.sh" >"$log" 2>&1 || true
		fi
		grep -oE 'VMTEST .*' "$log" >"$out/$impl-$i.vmtest" || true
	done
done

python3 - "$out" "$reps" <<'PY' | tee "$out/summary.md"
import os, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
res = {}
for impl in ("passt-c", "gopasst"):
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
print("| test | unit | C passt | gopasst | ratio |")
print("|---|---|---|---|---|")
for (name, unit), d in res.items():
    def med(xs):
        xs = xs or []
        ok = [x for x in xs if x is not None]
        nums = [x for x in ok if x != "ok"]
        m = statistics.median(nums) if nums else ("ok" if ok else None)
        return (m, len(ok), len(xs))
    c, g = med(d.get("passt-c")), med(d.get("gopasst"))
    def fmt(m):
        if m[0] is None:
            return "fail (0/%d ok)" % m[2]
        if m[0] == "ok":
            return "ok (%d/%d)" % (m[1], m[2])
        return "%.3g (%d/%d ok)" % m
    num = lambda m: isinstance(m[0], float)
    ratio = "%.2f" % (g[0] / c[0]) if num(c) and num(g) and c[0] else "-"
    print("| %s | %s | %s | %s | %s |" % (name, unit, fmt(c), fmt(g), ratio))
PY
echo "logs: $out" >&2
