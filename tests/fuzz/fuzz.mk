# libFuzzer targets (clang; Debian's libclang-rt-14-dev).  Included by the
# top-level Makefile's `make fuzz`:
#   make fuzz                      build every target and run each FUZZ_SECONDS (default 30)
#   make fuzz FUZZ_SECONDS=600     longer
#   build-fuzz/fuzz_request -runs=1000000 tests/fuzz/seeds/request
FB            ?= build-fuzz
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 30
PKG_CONFIG    ?= pkg-config
LIBS           = libevent libevent_pthreads libcurl libical sqlite3 jansson inih libsystemd
# A UBSan report stops the run (and fails make fuzz), as a crash does.
FUZZ_FLAGS     = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=undefined
FUZZ_CFLAGS    = -std=c11 -D_GNU_SOURCE -DLECTERN_FUZZ=1 -Iinclude -Icommon -Idaemon \
                 -DLECTERN_VERSION=\"fuzz\" -DLECTERN_DATADIR=\"/nonexistent\" \
                 -DLECTERN_SYSCONFDIR=\"/nonexistent\" \
                 $(shell $(PKG_CONFIG) --cflags $(LIBS))
FUZZ_LIBS      = $(shell $(PKG_CONFIG) --libs $(LIBS)) -lcsv

SRCS := $(filter-out daemon/main.c,$(wildcard daemon/*.c)) $(wildcard common/*.c)
OBJS := $(SRCS:%.c=$(FB)/%.o)
BINS := $(FUZZ_TARGETS:%=$(FB)/fuzz_%)

run: $(BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FB)/corpus-$$t; \
		echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
		$(FB)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -timeout=10 -rss_limit_mb=2048 $(FB)/corpus-$$t tests/fuzz/seeds/$$t \
		    2>$(FB)/fuzz_$$t.log || { tail -n 60 $(FB)/fuzz_$$t.log; exit 1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' $(FB)/fuzz_$$t.log | tail -n 3; \
	done

$(FB)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CFLAGS) -c -o $@ $<

# An archive, as for the unit tests: a target may define a symbol (the
# server's client count) and then that member is not pulled in.
$(FB)/liblectern.a: $(OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FB)/fuzz_%: tests/fuzz/fuzz_%.c $(FB)/liblectern.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_CFLAGS) -o $@ $< $(FB)/liblectern.a $(FUZZ_LIBS)

.SECONDARY:
.PHONY: run
