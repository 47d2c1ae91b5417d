# lectern -- one non-recursive Makefile.
#
#   make              build build/lecternd and build/lectern
#   make deps         install the Debian packages that build, tests and demo need
#   make demo         the guided tour on the embedded default (maildir)
#   make check        the whole test suite (unit + integration)
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make fuzz         build and briefly run the libFuzzer targets (clang)
#   make bench        benchmarks; results go into docs/BENCHMARKS.md
#   make install      PREFIX=/usr/local DESTDIR=

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
DATADIR  ?= $(PREFIX)/share/lectern

CC       ?= cc
PKG_CONFIG ?= pkg-config
B        ?= build

LIBS_DAEMON = libevent libevent_pthreads libcurl libical sqlite3 jansson inih libsystemd
LIBS_CLIENT = jansson gmime-3.0

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wpointer-arith -Wwrite-strings
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Icommon -Idaemon \
           -DLECTERN_VERSION=\"$(VERSION)\" -DLECTERN_DATADIR=\"$(DATADIR)\" \
           -DLECTERN_SYSCONFDIR=\"$(SYSCONFDIR)\"
CPPFLAGS += -MMD -MP

ifeq ($(SANITIZE),1)
B := build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif


DAEMON_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_DAEMON) 2>/dev/null)
DAEMON_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_DAEMON) 2>/dev/null) -lcsv
CLIENT_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_CLIENT) 2>/dev/null)
CLIENT_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_CLIENT) 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

COMMON_SRCS := $(sort $(wildcard common/*.c))
DAEMON_SRCS := $(sort $(wildcard daemon/*.c))
CLIENT_SRCS := $(sort $(wildcard client/*.c))
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))

COMMON_OBJS := $(COMMON_SRCS:%.c=$(B)/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/%.o)
DAEMON_LIB_OBJS := $(filter-out $(B)/daemon/main.o,$(DAEMON_OBJS))
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(B)/%.o)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

all: $(B)/lecternd $(B)/lectern

# libcurl is loaded on first use (daemon/curlsym.c), not linked: only its
# header is needed (DAEMON_CFLAGS); dlopen is in glibc's libc since 2.34.
DAEMON_LINK := $(filter-out -lcurl,$(DAEMON_LIBS))

$(B)/lecternd: $(DAEMON_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(DAEMON_LINK)

# The daemon the integration tests run when they need the test hooks (the
# test clock): the same objects, with the hook files compiled with
# LECTERN_TESTHOOKS. An installed lecternd has none of them.
HOOK_SRCS := daemon/clock.c
HOOK_OBJS := $(HOOK_SRCS:%.c=$(B)/%-th.o)

$(B)/lecternd-test: $(filter-out $(HOOK_SRCS:%.c=$(B)/%.o),$(DAEMON_OBJS)) $(HOOK_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(DAEMON_LINK)

$(B)/daemon/%-th.o: daemon/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DAEMON_CFLAGS) -DLECTERN_TESTHOOKS=1 -c -o $@ $<

$(B)/lectern: $(CLIENT_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLIENT_LIBS)

$(B)/daemon/%.o: daemon/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DAEMON_CFLAGS) -c -o $@ $<

$(B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DAEMON_CFLAGS) -c -o $@ $<

$(B)/client/%.o: client/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CLIENT_CFLAGS) -Iclient -c -o $@ $<

# The daemon's modules (all but main) and the common code as an archive:
# unit tests, fuzz targets and benchmarks link only the members they need,
# and a test that #includes a module's .c (to reach its statics) simply
# does not pull that member.
$(B)/liblectern.a: $(DAEMON_LIB_OBJS) $(COMMON_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DAEMON_CFLAGS) -Iclient -c -o $@ $<

$(B)/tests/test_%: $(B)/tests/test_%.o $(B)/liblectern.a
	$(CC) $(LDFLAGS) -o $@ $< $(B)/liblectern.a $(DAEMON_LINK) $(CMOCKA_LIBS)

# Small programs the integration tests run (e.g. an iCalendar checker built
# on libical itself).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tools/%)

$(B)/tools/%: tests/tools/%.c $(B)/liblectern.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DAEMON_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liblectern.a $(DAEMON_LIBS)

unit: $(UNIT_BINS) $(TOOL_BINS) $(B)/lecternd-test

# check, demo and bench install what is missing first, then re-read this
# Makefile so that pkg-config sees the freshly installed libraries.
check: deps
	@$(MAKE) --no-print-directory check-run
check-run: all unit
	B=$(B) tests/run

check-long: deps
	@$(MAKE) --no-print-directory check-long-run
check-long-run: all unit
	B=$(B) LECTERN_LONG=1 tests/run

deps:
	@sh tests/deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh $(B)

FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk FUZZ_TARGETS="$(FUZZ_TARGETS)"

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/lectern \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(B)/lecternd $(DESTDIR)$(SBINDIR)/lecternd
	install -m 0755 $(B)/lectern $(DESTDIR)$(BINDIR)/lectern
	install -m 0644 docs/lectern.1 $(DESTDIR)$(MANDIR)/man1/lectern.1
	install -m 0644 docs/lectern.conf.5 $(DESTDIR)$(MANDIR)/man5/lectern.conf.5
	install -m 0644 docs/lecternd.8 $(DESTDIR)$(MANDIR)/man8/lecternd.8
	test -e $(DESTDIR)$(SYSCONFDIR)/lectern/lectern.conf || \
	  install -m 0644 config/lectern.conf $(DESTDIR)$(SYSCONFDIR)/lectern/lectern.conf
	install -m 0644 config/lectern.conf $(DESTDIR)$(DATADIR)/lectern.conf.example
	cp -R config/templates $(DESTDIR)$(DATADIR)/ 2>/dev/null || true
	install -m 0644 systemd/lecternd.service $(DESTDIR)$(UNITDIR)/lecternd.service
	test ! -f systemd/lecternd.socket || install -m 0644 systemd/lecternd.socket $(DESTDIR)$(UNITDIR)/lecternd.socket
	install -m 0644 systemd/lectern.sysusers $(DESTDIR)$(SYSUSERSDIR)/lectern.conf
	install -m 0644 systemd/lectern.tmpfiles $(DESTDIR)$(TMPFILESDIR)/lectern.conf

clean:
	rm -rf build build-san build-fuzz

.SECONDARY:

.PHONY: all unit check check-run check-long check-long-run deps demo bench fuzz install clean

-include $(wildcard $(B)/*/*.d $(B)/tests/*.d $(B)/tools/*.d)
