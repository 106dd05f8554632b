# SPDX-License-Identifier: GPL-2.0-or-later
#
# Release build and install. `make` builds bin/passt, a static Go binary
# (CGO_ENABLED=0, position-independent), and bin/pasta, a link to it;
# reproducible: the same source and VERSION give the same bytes
# (tests/reproducible.sh checks it). `make install` puts them, the man
# pages, README.md and the sample configuration under $(DESTDIR)$(PREFIX).
#
# The development verbs (demo, test, unit, fuzz, integration, bench, deps,
# seccomp, deb) are ./dev's, which also installs what they need on a
# Debian 12 machine; `make VERB` runs `./dev VERB`.
#
#   make [VERSION=V] [GOBUILDMODE=pie|exe]
#   make install [DESTDIR=/tmp/x] [PREFIX=/usr/local]

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/gopasst
DESTDIR     ?=
BIN         ?= bin
GO          ?= go
GOBUILDMODE ?= pie
VERSION     ?= $(shell git describe --always --dirty --tags 2>/dev/null || echo devel)

# -trimpath and -buildid= keep paths and the build ID out of the binary,
# -buildvcs=false keeps out the VCS state (VERSION says it), -s -w the
# symbol table and DWARF.
GOBUILDFLAGS = -trimpath -buildvcs=false -buildmode=$(GOBUILDMODE) \
	-ldflags '-s -w -buildid= -X gopasst/conf.version=$(VERSION)'

.PHONY: all build install uninstall clean FORCE
all build: $(BIN)/passt $(BIN)/pasta $(BIN)/pesto

$(BIN)/passt: FORCE
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build $(GOBUILDFLAGS) -o $@ ./cmd/passt

$(BIN)/pasta: $(BIN)/passt
	ln -sfn passt $@

# pesto: the client of pasta's -c control socket (package ctl).
$(BIN)/pesto: FORCE
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build $(GOBUILDFLAGS) -o $@ ./cmd/pesto

# install rebuilds (Go's cache makes it quick; the same VERSION gives the
# same bytes), so that it never installs a ./dev build lying in bin/.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BIN)/passt $(DESTDIR)$(BINDIR)/passt
	ln -sfn passt $(DESTDIR)$(BINDIR)/pasta
	install -m 0755 $(BIN)/pesto $(DESTDIR)$(BINDIR)/pesto
	install -m 0644 doc/passt.1 doc/pasta.1 doc/pesto.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 policy/testdata/example.toml $(DESTDIR)$(DOCDIR)/example.toml

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/passt $(DESTDIR)$(BINDIR)/pasta $(DESTDIR)$(BINDIR)/pesto \
		$(DESTDIR)$(MANDIR)/man1/passt.1 $(DESTDIR)$(MANDIR)/man1/pasta.1 $(DESTDIR)$(MANDIR)/man1/pesto.1 \
		$(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/example.toml
	-rmdir $(DESTDIR)$(DOCDIR)

clean:
	rm -f $(BIN)/passt $(BIN)/pasta $(BIN)/pesto

.PHONY: demo test unit integration bench deps seccomp deb fuzz
demo test unit integration bench deps seccomp deb:
	./dev $@
fuzz:
	./dev fuzz $(FUZZTIME)
