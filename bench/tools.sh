# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/tools.sh: sourced, from the repository's top directory, by the
# A/B scripts of bench/ that run gopasst's pasta beside upstream's
# (splice-ab.sh, rr-placement.sh): setting up the two tools (tool_dirs)
# and running them in turns (alternate).

# tool_dirs WORK [BIN [REF]]: make WORK/go/pasta, a link to gopasst's
# pasta (BIN; when empty, bin/pasta, built now), and WORK/up/pasta, a
# link to upstream pasta 2026 (REF; when empty, ../shared/bench/ref/pasta,
# or ../../shared beside a worktree). Both run as "pasta": argv[0] picks
# the mode, and upstream re-executes its .avx2 build by /proc/self/exe, so
# the links point at the real files.
tool_dirs() {
    local work=$1 bin=${2:-} ref=${3:-} shared
    if [ -z "$bin" ]; then
        ./dev build >/dev/null
        bin=$PWD/bin/pasta
    fi
    if [ -z "$ref" ]; then
        shared=$(readlink -f ../shared 2>/dev/null || true)
        [ -d "$shared" ] || shared=$(readlink -f ../../shared)
        ref=$shared/bench/ref/pasta
        # ref/pasta may be a link stored as a file holding the target's name.
        if [ ! -x "$ref" ] && [ "$(wc -c <"$ref")" -lt 256 ]; then
            ref=$(dirname "$ref")/$(tr -d '\n' <"$ref")
        fi
    fi
    mkdir -p "$work/go" "$work/up"
    ln -s "$(readlink -f "$bin")" "$work/go/pasta"
    ln -s "$(readlink -f "$ref")" "$work/up/pasta"
}

# alternate REPS ARG...: REPS times, the caller's "one go ARG..." then
# "one up ARG...", each holding /tmp/gopasst-bench.lock, so that the two
# tools take turns through whatever the machine does meanwhile.
alternate() {
    local reps=$1 impl
    shift
    for _ in $(seq "$reps"); do
        for impl in go up; do
            {
                flock 8
                one "$impl" "$@"
            } 8> /tmp/gopasst-bench.lock
        done
    done
}
