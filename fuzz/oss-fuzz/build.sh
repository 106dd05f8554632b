#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# OSS-Fuzz / ClusterFuzzLite build script for gopasst's native Go fuzzers.
# Inside the OSS-Fuzz "base-builder-go" image, $SRC/gopasst holds the
# checkout and compile_native_go_fuzzer turns each `func FuzzX(f *testing.F)`
# into a libFuzzer binary named PKG_FuzzX in $OUT. Seed corpora are zipped
# from testdata/fuzz/FuzzX.
set -euo pipefail
cd "${SRC:-$(dirname "$(readlink -f "$0")")/../..}/gopasst" 2>/dev/null || cd "$(dirname "$(readlink -f "$0")")/../.."
mod=$(go list -m)
grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | sort | while read -r file; do
	dir=$(dirname "$file")
	for name in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
		bin="$(echo "${dir#./}" | tr '/' '_')_${name}"
		compile_native_go_fuzzer "$mod/${dir#./}" "$name" "$bin"
		if [ -d "$dir/testdata/fuzz/$name" ] && [ -n "${OUT:-}" ]; then
			(cd "$dir/testdata/fuzz/$name" && zip -q -r "$OUT/${bin}_seed_corpus.zip" .)
		fi
	done
done
