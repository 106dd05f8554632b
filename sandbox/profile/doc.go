// SPDX-License-Identifier: GPL-2.0-or-later

// Package profile parses seccomp.profile, the human-readable syscall
// allowlist of gopasst's sandbox, and evaluates it in pure Go.
//
// # Theory of operation
//
// seccomp.profile (at the repository root) is the single source of truth
// for the seccomp filters. cmd/seccompgen (cgo, libseccomp) parses it with
// this package and compiles one raw BPF program per mode and architecture
// into package sandbox, which embeds those of the GOARCH it is built for;
// the daemons themselves never link libseccomp.
// This mirrors passt's seccomp.sh, which collects "#syscalls" comments at
// build time, with the list kept in one reviewable file instead.
//
// The grammar, also documented at the top of seccomp.profile:
//
//	[section]                         runtime, common, passt, pasta, waiter, or denied
//	name [cond ...] [arch] # reason   allow syscall name; the reason is mandatory
//	cond  := argN OP VALUE            OP is one of == != < <= > >=
//	       | argN & MASK == VALUE
//	VALUE := NUMBER | CONSTANT, or for == several joined with "|"
//	arch  := arch == A|B | arch != A|B   GOARCH names (Arches)
//
// Conditions on one line are AND'ed; several lines for one syscall are
// OR'ed, and an alternative list "a|b" expands into one rule per value. A
// mode's rules are the shared sections it includes (Includes: [runtime]
// for every mode, [common] for the daemons' modes passt and pasta, not
// for waiter, the foreground launchers') plus its own section. An arch
// qualifier limits a rule to some architectures (Arches: the nine Debian release
// architectures); without one it applies to all. Within a mode and an
// architecture a syscall is either unconditional or conditional, never
// both: an unconditional rule would silently void the argument checks.
// [denied] lists syscalls that are deliberately absent, with the reason;
// naming one of them in an allow section is an error, and the tests assert
// that each is refused.
//
// Constants have one value per architecture (ArchConstants: the ioctl
// numbers of ppc64le and mips64le differ from asm-generic). ArchRules
// returns a mode's rules for one architecture with the constants resolved
// and, on 32-bit architectures, conditions that compare the low 32 bits
// only, as the compiled filter does there (the arguments are 32-bit
// registers). Allows evaluates such a rule set against a syscall's
// arguments exactly as the compiled filter does; the sandbox tests run
// the compiled BPF of each architecture and this evaluator side by side.
package profile
