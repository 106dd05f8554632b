#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fuzz/run.sh [DURATION] [REGEXP]: run every native Go fuzz target in the
# module, one after the other, for DURATION each (default 10s: the CI
# campaign; a nightly campaign passes e.g. 2h). REGEXP restricts the targets
# by name.
#
# - The grown corpus of each target stays in Go's fuzz cache and is also
#   copied to fuzz/work/corpus/PKG/TARGET after each run, so a long campaign
#   keeps what it found (copy it into the package's testdata/fuzz/TARGET to
#   make it part of the seed corpus).
# - A crasher makes go test write the input to PKG/testdata/fuzz/TARGET/ and
#   fail; the script notes it, goes on with the other targets, and exits 1 at
#   the end naming every failing target and its saved input.
# - Go 1.26's fuzz coordinator can fail a target with a bare "context
#   deadline exceeded" as -fuzztime runs out (go.dev/issue/75804, fixed in
#   Go 1.27): no input is written and nothing is reproducible. Such a run is
#   retried once; if it happens again it is reported as a flake, not a
#   failure. Anything else (a written input, a panic, a failed check) fails.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

dur=${1:-10s}
filter=${2:-.}
mod=$(go list -m)
cache=$(go env GOCACHE)/fuzz
out=fuzz/work/corpus
mkdir -p "$out"

# Targets are found in the sources ("func FuzzX(f *testing.F)"), so no test
# binary is built just to list them.
mapfile -t targets < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . |
	grep -v '^./fuzz/work/' | sort | while read -r file; do
		dir=$(dirname "$file")
		grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r name; do
			echo "$dir $name"
		done
	done | grep -E " ${filter}" | sort -u)

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

failed=()
flaked=()
n=0

# deadline_flake LOG: the run failed only by the coordinator's deadline race.
deadline_flake() {
	grep -q 'context deadline exceeded' "$1" &&
		! grep -qE 'Failing input written|panic:|fuzz: minimizing' "$1" &&
		! grep -E '^    ' "$1" | grep -qv 'context deadline exceeded'
}
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	pkg="$mod/${dir#./}"
	n=$((n + 1))
	printf '== fuzz %-40s %-28s %s\n' "$pkg" "$name" "$dur"
	before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
	log="/tmp/fuzz-$name.log"
	ok=0
	for try in 1 2; do
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$dur" "$dir" >"$log" 2>&1; then
			ok=1
			break
		fi
		after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
		if [ "$after" -eq "$before" ] && deadline_flake "$log"; then
			echo "   deadline race of the fuzz coordinator (go.dev/issue/75804), no input written (try $try)"
			ok=2
			continue
		fi
		ok=0
		break
	done
	case $ok in
	1) grep -E '^fuzz: elapsed' "$log" | tail -1 ;;
	2) flaked+=("$pkg $name") ;;
	*)
		tail -20 "$log"
		saved=$(grep -oE 'testdata/fuzz/[^ ]+' "$log" | tail -1)
		failed+=("$pkg $name ${saved:+(input saved in $dir/$saved)}")
		;;
	esac
	if [ -d "$cache/$pkg/$name" ]; then
		mkdir -p "$out/${dir#./}/$name"
		cp -n "$cache/$pkg/$name"/* "$out/${dir#./}/$name/" 2>/dev/null || true
	fi
	after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
	[ "$after" -gt "$before" ] && echo "   new crasher input(s) under $dir/testdata/fuzz/$name"
done

if [ ${#flaked[@]} -gt 0 ]; then
	echo "fuzz: ${#flaked[@]} target(s) hit only the coordinator's deadline race twice (no input, not a crash):"
	printf '  %s\n' "${flaked[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $n targets failed:"
	printf '  %s\n' "${failed[@]}"
	echo "${n} targets: $((n - ${#failed[@]})) passed, ${#failed[@]} failed"
	exit 1
fi
echo "fuzz: all $n targets ran for $dur without a crasher${flaked[0]:+ (${#flaked[@]} hit only the deadline race)}"
