# logferry — plain Makefile. See README.md.
#   make            build liblogferry.a, both daemons and the test tools
#   make check      deps, unit tests under ASan+UBSan, then e2e scenarios
#   make demo       deps, then the whole pipeline locally (test/demo.sh)
#   make bench      benchmarks (test/bench/), never part of check
#   make install    honours DESTDIR and PREFIX
# Variables: SANITIZE=address,undefined  WERROR=1  O=<object dir>

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PREFIX   ?= /usr/local
DESTDIR  ?=
O        ?= build/obj
CC       ?= cc
PKGS     := rdkafka libcurl libcjson inih libpcre2-8 zlib libmicrohttpd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lm -lpthread

# CFLAGS/CPPFLAGS/LDFLAGS stay the user's (dpkg-buildflags, rpm optflags);
# ours are added in ALL_CFLAGS/ALL_LDFLAGS.
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter \
             -fno-strict-aliasing -DLF_VERSION='"$(VERSION)"' -I. $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)
ifeq ($(WERROR),1)
ALL_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

COMMON_SRC    := $(wildcard common/*.c)
COLLECTOR_SRC := $(filter-out collector/main.c,$(wildcard collector/*.c))
INDEXER_SRC   := $(filter-out indexer/main.c,$(wildcard indexer/*.c))
UNIT_SRC      := $(wildcard test/unit/test_*.c)
TOOL_SRC      := $(wildcard test/tools/*.c)

# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @echo "  $(1) $(2)"
endif

obj = $(patsubst %.c,$(O)/%.o,$(1))
LIBCOMMON     := $(O)/liblogferry.a
LIBCOLLECTOR  := $(O)/libcollector.a
LIBINDEXER    := $(O)/libindexer.a
COLLECTOR_BIN := $(O)/logferry-collector
INDEXER_BIN   := $(O)/logferry-indexer
UNIT_BINS     := $(patsubst test/unit/%.c,$(O)/test/unit/%,$(UNIT_SRC))
TOOL_BINS     := $(patsubst test/tools/%.c,$(O)/test/tools/%,$(TOOL_SRC))
BENCH_SRC     := $(wildcard test/bench/tools/*.c)
BENCH_BINS    := $(patsubst test/bench/tools/%.c,$(O)/test/bench/%,$(BENCH_SRC))

.PHONY: all deps check unit e2e demo bench install install-man man deb rpm clean daemons tools
.DEFAULT_GOAL := all

# The default build also leaves the binaries where DESIGN.md names them.
all: daemons tools
	@cp -f $(LIBCOMMON) common/liblogferry.a
	@cp -f $(COLLECTOR_BIN) collector/logferry-collector
	@cp -f $(INDEXER_BIN) indexer/logferry-indexer

daemons: $(COLLECTOR_BIN) $(INDEXER_BIN)
tools: $(TOOL_BINS)
unit: $(UNIT_BINS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC  ,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBCOLLECTOR): $(call obj,$(COLLECTOR_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBINDEXER): $(call obj,$(INDEXER_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^

$(COLLECTOR_BIN): $(O)/collector/main.o $(LIBCOLLECTOR) $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(INDEXER_BIN): $(O)/indexer/main.o $(LIBINDEXER) $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Unit tests: test_collector_* link the collector's modules, test_indexer_*
# the indexer's, everything links common. One program per module (cmocka).
$(O)/test/unit/test_collector_%: $(O)/test/unit/test_collector_%.o $(LIBCOLLECTOR) $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka
$(O)/test/unit/test_indexer_%: $(O)/test/unit/test_indexer_%.o $(LIBINDEXER) $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka
$(O)/test/unit/test_%: $(O)/test/unit/test_%.o $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka
$(O)/test/tools/%: $(O)/test/tools/%.o $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
# Benchmark helpers (test/bench/tools/*.c): built by `make bench` only.
$(O)/test/bench/%: $(O)/test/bench/tools/%.o $(LIBCOMMON)
	$(call say,LD  ,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

deps:
	@test/tools/deps.sh

# check: deps, a warnings-as-errors build, unit tests under sanitizers, e2e.
check: deps
	@$(MAKE) --no-print-directory WERROR=1 all
	@$(MAKE) --no-print-directory O=build/san SANITIZE=address,undefined WERROR=1 unit
	@test/run-check.sh

unit-run: deps
	@$(MAKE) --no-print-directory O=build/san SANITIZE=address,undefined WERROR=1 unit
	@test/run-check.sh --unit-only

demo: deps all
	@test/demo.sh

bench: deps all $(BENCH_BINS)
	@test/tools/deps.sh time
	@test/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/logferry
	install -m 0755 collector/logferry-collector indexer/logferry-indexer $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 etc/*.ini $(DESTDIR)/etc/logferry/

# Man pages: the option lists come from the daemons' own option tables
# (`--man-options`). While a daemon does not answer that flag (placeholder
# builds), its list is replaced by a pointer to --help and a warning is
# printed, so packaging can be built and tested before the daemons are done.
MAN_DATE := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%d)
MANS := build/man/logferry-collector.8 build/man/logferry-indexer.8 \
        build/man/logferry.ini.5 build/man/logferry-rules.5
MAN_OPTS := build/man/collector-options.man build/man/indexer-options.man
.SECONDARY: $(MAN_OPTS)
man: $(MANS)
build/man/%-options.man: $(O)/logferry-%
	@mkdir -p build/man
	@if $< --man-options > $@.tmp 2>/dev/null && [ -s $@.tmp ]; then mv $@.tmp $@; else \
	  rm -f $@.tmp; \
	  echo "warning: $< --man-options failed: the man pages get no $* option list" >&2; \
	  printf '.PP\nThe option list was not available when this page was built; see\n.BR "logferry\\-%s \\-\\-help" .\n' $* > $@; \
	fi
build/man/%: packaging/man/%.in $(MAN_OPTS)
	@mkdir -p build/man
	sed -e 's/@VERSION@/$(VERSION)/g; s/@DATE@/$(MAN_DATE)/g' \
	    -e '/@COLLECTOR_OPTIONS@/{r build/man/collector-options.man' -e 'd}' \
	    -e '/@INDEXER_OPTIONS@/{r build/man/indexer-options.man' -e 'd}' $< > $@
install-man: man
	install -d $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 build/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 build/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

# Packages, into build/packages/. Each format builds in its own clean copy
# of the tree (without build/ and .git/): build/pkg/ for deb, build/pkgsrc/
# (and its tarball, `make pkgsrc`) for rpm, so `make deb` and `make rpm` may
# run at the same time (after `make pkgdeps`).
# `make deb` fails on lintian errors; warnings are printed (packaging/README.md).
PKG_DEPS  := debhelper dpkg-dev fakeroot lintian rpm
PKGSRC     = build/pkg/logferry-$(VERSION)
# pkg_tree DIR: a clean copy of the source tree as DIR/logferry-VERSION.
define pkg_tree
rm -rf $(1) && mkdir -p $(1)/logferry-$(VERSION)
tar --exclude=./build --exclude=./.git -cf - . | tar -C $(1)/logferry-$(VERSION) -xf -
$(MAKE) -C $(1)/logferry-$(VERSION) clean >/dev/null
endef
.PHONY: pkgdeps pkgsrc
pkgdeps:
	@test/tools/deps.sh $(PKG_DEPS)
pkgsrc: pkgdeps
	$(call pkg_tree,build/pkgsrc)
	tar -C build/pkgsrc -czf build/pkgsrc/logferry-$(VERSION).tar.gz logferry-$(VERSION)
deb: pkgdeps
	$(call pkg_tree,build/pkg)
	cp -r packaging/debian $(PKGSRC)/debian
	for d in collector indexer; do \
	  cp packaging/systemd/logferry-$$d.service $(PKGSRC)/debian/logferry-$$d.service; \
	  cp packaging/sysv/logferry-$$d $(PKGSRC)/debian/logferry-$$d.init; \
	  cp packaging/sysv/logferry-$$d.default $(PKGSRC)/debian/logferry-$$d.default; \
	done
	cd $(PKGSRC) && dpkg-buildpackage -us -uc -b -j2
	lintian --fail-on error --tag-display-limit 0 build/pkg/*.changes
	mkdir -p build/packages && rm -f build/packages/*.deb && mv build/pkg/*.deb build/packages/
rpm: pkgsrc
	rm -rf build/rpm
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/build/rpm" \
	  --define "_sourcedir $(CURDIR)/build/pkgsrc" --define "lf_version $(VERSION)" \
	  --define "__brp_compress /bin/bash %{_rpmconfigdir}/brp-compress %{?_prefix}" \
	  packaging/rpm/logferry.spec
	mkdir -p build/packages && rm -f build/packages/*.rpm && \
	  find build/rpm/RPMS -name '*.rpm' -exec mv {} build/packages/ \;

clean:
	rm -rf build common/liblogferry.a collector/logferry-collector indexer/logferry-indexer

-include $(shell find $(O) -name '*.d' 2>/dev/null)
