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
n=0
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	pkg="$mod/${dir#./}"
	n=$((n + 1))
	printf '== fuzz %-40s %-28s %s\n' "$pkg" "$name" "$dur"
	before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$dur" "$dir" >"/tmp/fuzz-$name.log" 2>&1; then
		tail -20 "/tmp/fuzz-$name.log"
		saved=$(grep -oE 'testdata/fuzz/[^ ]+' "/tmp/fuzz-$name.log" | tail -1)
		failed+=("$pkg $name ${saved:+(input saved in $dir/$saved)}")
	else
		grep -E '^fuzz: elapsed' "/tmp/fuzz-$name.log" | tail -1
	fi
	if [ -d "$cache/$pkg/$name" ]; then
		mkdir -p "$out/${dir#./}/$name"
		cp -n "$cache/$pkg/$name"/* "$out/${dir#./}/$name/" 2>/dev/null || true
	fi
	after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
	[ "$after" -gt "$before" ] && echo "   new crasher input(s) under $dir/testdata/fuzz/$name"
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $n targets failed:"
	printf '  %s\n' "${failed[@]}"
	echo "${n} targets: $((n - ${#failed[@]})) passed, ${#failed[@]} failed"
	exit 1
fi
echo "fuzz: all $n targets ran for $dur without a crasher"
