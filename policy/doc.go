// SPDX-License-Identifier: GPL-2.0-or-later

// Package policy holds gopasst's typed configuration: what the command line
// and the TOML file say, port-forwarding rules, and our egress policy.
package policy
