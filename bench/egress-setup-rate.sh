#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TCP flow setup rate (connect + close per second) through gopasst's pasta
# with no egress rules and with 1,000 deny prefixes, and the ratio (issue
# 12 asks for >= 0.95). Runs TestIntegrationEgressSetupRate as root under
# the integration-test lock. Usage: sudo bench/egress-setup-rate.sh [SECONDS]
# (per round, default 10). For a quiet machine only.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
GOPASST_EGRESS_BENCH=$secs flock /tmp/gopasst-itest.lock \
	go test -tags integration -count=1 -p 1 -v -run '^TestIntegrationEgressSetupRate$' ./tests/ |
	grep -E 'egress flow setup|connect/close|^(ok|FAIL|---)'
