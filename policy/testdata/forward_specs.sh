#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Check forward_specs.txt (the -t/-u/-T/-U table TestForwardSpecsTable
# runs against gopasst) against upstream passt/pasta: for each line, run
# the upstream binary with the line's options and compare the rules it
# prints ("Inbound/Outbound forwarding rules") with the expected ones, or
# check that it refuses the options.
#
#   sudo policy/testdata/forward_specs.sh [PASST_BINARY] [TABLE]
#   sudo policy/testdata/forward_specs.sh --print [PASST_BINARY] [TABLE]
#
# --print shows upstream's answer for every line instead of comparing (to
# write new lines). Default binary: ../shared/bench/ref/passt from the
# repository root. Needs root (unshare, mount); not run in CI. Every probe
# runs in new network namespaces (the "host" side too: listeners never
# touch the real host), with a timeout; nothing is left behind.
set -u

print=false
if [ "${1:-}" = --print ]; then print=true; shift; fi
here=$(cd "$(dirname "$0")" && pwd)
ref=${1:-$here/../../../shared/bench/ref/passt}
table=${2:-$here/forward_specs.txt}
[ -x "$ref" ] || { echo "no upstream passt binary at $ref" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (unshare -n, mount)" >&2; exit 2; }

work=$(mktemp -d /tmp/forward-specs.XXXXXX)
trap 'umount "$work/ns" 2>/dev/null; rm -rf "$work"' EXIT
ref=$(readlink -f "$ref")
ln -s "$ref" "$work/passt"
ln -s "$ref" "$work/pasta" # mode from argv[0]
[ -x "$ref.avx2" ] && ln -s "$ref.avx2" "$work/passt.avx2" && ln -s "$ref.avx2" "$work/pasta.avx2"

# upstream MODE ARGS...: upstream's output for these options, run in a new
# network namespace (pasta: attached to a second one with --netns).
upstream() {
	local mode=$1
	shift
	if [ "$mode" = passt ]; then
		unshare -n timeout 2 "$work/passt" -f --runas 0 "$@" -s "$work/sock" 2>&1
	else
		unshare -mn --propagation private sh -c '
			unshare -n sleep 5 & p=$!
			sleep 0.1
			touch "$1/ns" && mount --bind /proc/$p/ns/net "$1/ns"
			shift
			timeout 1 "$@"
			kill $p' sh "$work" "$work/pasta" -f --runas 0 --netns "$work/ns" "$@" 2>&1
	fi
}

# rules OUTPUT ARGS...: the rules upstream printed for the options in ARGS,
# grouped -t, -u, -T, -U, joined by "; "; "none" if none, "error" if
# upstream refused the options.
rules() {
	local out=$1
	shift
	if ! grep -q 'forwarding rules' <<<"$out"; then
		echo error
		return
	fi
	local res="" flag section proto line
	for flag in t u T U; do
		case " $* " in *" -$flag "*) ;; *) continue ;; esac
		case $flag in
		t) section=Inbound proto=TCP ;; u) section=Inbound proto=UDP ;;
		T) section=Outbound proto=TCP ;; U) section=Outbound proto=UDP ;;
		esac
		while IFS= read -r line; do
			res="${res:+$res; }$line"
		done < <(awk -v s="$section" -v p="$proto" '
			/forwarding rules/ { in_s = ($1 == s); next }
			/^[^ ]/ { in_s = 0 }
			in_s && $1 == p { $1 = $1; print }' <<<"$out")
	done
	echo "${res:-none}"
}

fail=0 n=0
while IFS= read -r l; do
	case $l in '#'* | '') continue ;; esac
	args=${l%%|*} want=${l#*|}
	want=$(echo $want)
	eval "set -- $args"
	mode=$1
	shift
	out=$(upstream "$mode" "$@")
	got=$(rules "$out" "$@")
	n=$((n + 1))
	if $print; then
		printf '%s| %s\n' "$args" "$got"
	elif [ "$got" != "$want" ]; then
		fail=$((fail + 1))
		printf 'MISMATCH %s\n  table:    %s\n  upstream: %s\n' "$args" "$want" "$got"
		grep -v -E '^(No interfaces|IPv[46]: no external|Started as root)' <<<"$out" | head -3 | sed 's/^/    /'
	fi
done <"$table"
$print || echo "$n lines, $fail mismatches"
[ $fail = 0 ]
