#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# reproducible.sh: `make` twice, from copies of the tree at two different
# paths, each with an empty Go build cache, must give the same bytes; and
# the binary must report the stamped version under both names.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="/usr/local/go/bin:$PATH"

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
sums=()
for n in 1 2; do
	src=$work/tree$n/src-$n
	mkdir -p "$src"
	# The working tree as it is (tracked and new files), not only HEAD.
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 tar -cf - --no-recursion | tar -xf - -C "$src"
	GOCACHE=$work/cache$n GOFLAGS=-modcacherw make -s -C "$src" VERSION=repro-test BIN=out >/dev/null
	sums+=("$(sha256sum <"$src/out/passt" | cut -d' ' -f1)")
	echo "build $n: $src/out/passt sha256 ${sums[-1]}"
done
if [ "${sums[0]}" != "${sums[1]}" ]; then
	echo "reproducible: the two builds differ" >&2
	exit 1
fi
for name in passt pasta; do
	got=$("$src/out/$name" --version)
	case $got in
	"gopasst repro-test"$'\n'"$name mode"*) ;;
	*) echo "reproducible: $name --version printed: $got" >&2; exit 1 ;;
	esac
done
echo "reproducible: identical ($(stat -c %s "$src/out/passt") bytes), version stamped"
