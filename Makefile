# SPDX-License-Identifier: GPL-2.0-or-later
# Thin wrapper: every target is a verb of ./dev, which also installs what it
# needs on a fresh Debian 12 machine.
.PHONY: all build demo test unit fuzz integration bench deps seccomp
all: build
build demo test unit integration bench deps seccomp:
	./dev $@
fuzz:
	./dev fuzz $(FUZZTIME)
