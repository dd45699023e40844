# SPDX-License-Identifier: Apache-2.0
# cshim: a C drop-in replacement for containerd's v1 shim.

CC      ?= gcc
BUILD   ?= build
# jemalloc is the allocator; sanitizer builds use glibc's (both want to own malloc).
USE_JEMALLOC ?= 1
PKGS    := libprotobuf-c liburcu-memb liburcu-cds jansson nettle $(if $(filter 1,$(USE_JEMALLOC)),jemalloc)
CFLAGS  ?= -O2 -g
CFLAGS  += $(EXTRA_CFLAGS) -std=gnu17 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_GNU_SOURCE -pthread \
           -I. -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
           $(if $(filter 1,$(USE_JEMALLOC)),-DCSHIM_JEMALLOC)
LDLIBS  += $(EXTRA_CFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread

# The stack budget. Every thread of the shim runs on a 256 KiB stack (server/worker_pool.c), so
# no function may have a large frame: -Wframe-larger-than makes one an error, and -fstack-usage
# leaves each object's frame sizes in a .su file next to it, listed by `make stack-report`.
# The largest frame is 6.7 KiB today (m_state); paths and buffers of a page or more live on the
# heap. Sanitizer and fuzzing builds (EXTRA_CFLAGS set) have instrumented frames: not checked.
# GCC's -fcallgraph-info adds each object's call graph (.ci), from which `make stack-report`
# also lists the worst chains of direct calls and fails on recursion (tests/stack-chains.awk).
FRAME_MAX ?= 8192
CALLGRAPH := $(shell d=$$(mktemp -d) && $(CC) -fcallgraph-info=su -x c -c /dev/null -o $$d/t.o \
		2>/dev/null && echo -fcallgraph-info=su; rm -rf $$d)
STACK_CFLAGS := $(if $(strip $(EXTRA_CFLAGS)),,-Wframe-larger-than=$(FRAME_MAX) -fstack-usage \
		$(CALLGRAPH))

PROTO_DIR := proto/protos
PROTOS := google/protobuf/any.proto google/protobuf/empty.proto google/protobuf/timestamp.proto \
          google/rpc/status.proto github.com/containerd/ttrpc/request.proto \
          github.com/containerd/containerd/api/types/mount.proto \
          github.com/containerd/containerd/api/types/task/task.proto \
          github.com/containerd/containerd/api/events/task.proto \
          github.com/containerd/containerd/runtime/linux/runctypes/runc.proto \
          github.com/containerd/containerd/runtime/v1/shim/v1/shim.proto \
          github.com/containerd/containerd/runtime/v2/task/shim.proto \
          github.com/containerd/containerd/runtime/v2/runc/options/oci.proto \
          github.com/containerd/containerd/api/services/ttrpc/events/v1/events.proto \
          github.com/containerd/containerd/runtime/v2/task/shim.proto \
          github.com/containerd/containerd/runtime/v2/runc/options/oci.proto \
          github.com/containerd/containerd/api/types/introspection.proto \
          github.com/containerd/containerd/api/runtime/bootstrap/v1/bootstrap.proto \
          github.com/containerd/cgroups/cgroup1/stats/metrics.proto \
          github.com/containerd/cgroups/cgroup2/stats/metrics.proto
GEN_C  := $(patsubst %.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H  := $(GEN_C:.c=.h)
GEN_O  := $(GEN_C:.c=.o)

IO_SRC    := $(wildcard io/*.c)
CORE_SRC  := $(wildcard core/*.c)
PROTO_SRC := $(wildcard proto/*.c)
SRV_SRC   := $(filter-out server/main.c,$(wildcard server/*.c))
LIB_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(IO_SRC) $(CORE_SRC) $(PROTO_SRC) $(SRV_SRC)) $(GEN_O)

BIN := $(BUILD)/bin/cshim

# Build steps that `make test` and the sanitizer and fuzz targets run as sub-makes compile on
# every core (BUILD_JOBS) unless the caller gave -j itself (then its jobserver is shared).
# Only compiling runs in parallel: the test programs still run one after the other.
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_J = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(BUILD_JOBS))

# The shim is one static PIE (-static-pie: glibc too, the image still randomized). Every
# shared object costs its relocated and writable pages, and the dynamic loader its own.
# Measured on idle shims with a container (`cshim-bench density 8 SHIM --settle 12`,
# Private_Dirty per shim) and start-up (`SHIM --version`, 300 runs): all 10 libraries shared
# 522 kB and 2.9 ms, all static 334 kB and 1.4 ms (with glibc shared and the rest static,
# before the other savings of this version: 461 against 392 kB).
# Nothing in the shim needs what a static glibc cannot do (NSS, dlopen, iconv).
# STATIC_LIBS=0 links everything dynamically.
STATIC_LIBS ?= 1
ifeq ($(STATIC_LIBS)$(USE_JEMALLOC),11)
BIN_LIBS := $(EXTRA_CFLAGS) -static-pie -lprotobuf-c -lurcu-memb -lurcu-cds -lurcu-common -ljansson -lnettle \
            $(shell pkg-config --variable=libdir jemalloc 2>/dev/null)/libjemalloc_pic.a \
            -lm -pthread
else
BIN_LIBS := $(LDLIBS)
endif

.SECONDARY:
.PHONY: all deps install demo test test-unit test-integration test-e2e test-cri ref-cri probe-cri test-ctdsuite \
        test-docker clean format-check fmt stack-report
all: $(BIN)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: $(PROTO_DIR)/%.proto
	@mkdir -p $(BUILD)/gen
	protoc -I$(PROTO_DIR) --c_out=$(BUILD)/gen $<

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c $(GEN_H)
	$(CC) $(filter-out -Wshadow,$(CFLAGS)) $(STACK_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(GEN_H) $(wildcard io/*.h core/*.h proto/*.h server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STACK_CFLAGS) -c -o $@ $<

$(BUILD)/libcshim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/server/main.o $(BUILD)/libcshim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(BIN_LIBS)

deps:
	@sh tests/deps.sh

# PREFIX/bin/cshim, and containerd-shim-cshim-v2 next to it (a link): the name containerd
# looks for in its PATH for the runtime io.containerd.cshim.v2.
PREFIX ?= /usr/local
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/cshim
	ln -sf cshim $(DESTDIR)$(PREFIX)/bin/containerd-shim-cshim-v2

# The largest stack frames of the shim (from the .su files of the last build), largest first,
# then the worst chains of direct calls (bytes: the chain's frames, libc's not counted). Fails
# on recursion other than these, each bounded: remove_at (a tree removal, at most
# REMOVE_MAX_DEPTH levels), ttrpc_response_frame (once: a reply too big becomes an error reply).
STACK_TOP ?= 15
STACK_RECURSION_OK := core/pathcheck.c:remove_at ttrpc_response_frame
stack-report: $(BIN)
	@echo "largest frames:"
	@find $(BUILD)/obj $(BUILD)/gen -name '*.su' -exec cat {} + | sort -t '	' -k2,2nr | \
		head -n $(STACK_TOP) | awk -F '\t' '{ printf "%7d  %-10s %s\n", $$2, $$3, $$1 }'
	@echo "frame limit (-Wframe-larger-than): $(FRAME_MAX) bytes; thread stacks: 262144 bytes"
	@if [ -n "$(CALLGRAPH)" ]; then echo "worst chains of direct calls:"; \
		find $(BUILD)/obj -name '*.ci' -exec awk -v TOP=$(STACK_TOP) \
			-v ALLOW="$(STACK_RECURSION_OK)" -f tests/stack-chains.awk {} +; fi

# Sanitizer builds (own build dirs): unit and integration tiers under ASan+UBSan, UBSan, TSan.
# A report from the shim (started by the tests) lands in $(BUILD)/<san>/reports/ and fails.
SAN_asan  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_ubsan := -fsanitize=undefined -fno-sanitize-recover=all
SAN_tsan  := -fsanitize=thread
# make asan stops the shims under test with SIGTERM: their shutdown runs LeakSanitizer.
LEAKCHECK_asan := CSHIM_IT_LEAKCHECK=1
# The Go shim's runs that are only references (never counted: test_abuse's, test_stress's
# reduced storm) are left to the plain run: the Go shim is not what a sanitizer checks.
# test_errors compares with the Go shim's answers recorded by the plain run (tests/tests.mk).
.PHONY: asan ubsan tsan
asan ubsan tsan: deps
	$(MAKE) $(BUILD_J) BUILD=build/$@ USE_JEMALLOC=0 EXTRA_CFLAGS="$(SAN_$@)" all san-bins
	rm -rf build/$@/reports && mkdir -p build/$@/reports
	$(MAKE) BUILD=build/$@ USE_JEMALLOC=0 EXTRA_CFLAGS="$(SAN_$@)" \
		SAN_ENV="CSHIM_ABUSE_GO=0 CSHIM_STRESS_GO=0 $(LEAKCHECK_$@) \
		$(if $(ERR_GO_FRESH),CSHIM_ERR_GO_REPLAY=$(abspath $(ERR_GO_FRESH))) \
		ASAN_OPTIONS=log_path=$(abspath build/$@/reports/asan):detect_leaks=1 \
		LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
		UBSAN_OPTIONS=log_path=$(abspath build/$@/reports/ubsan):print_stacktrace=1 \
		TSAN_OPTIONS=log_path=$(abspath build/$@/reports/tsan):second_deadlock_stack=1:suppressions=$(abspath tests/tsan.supp)" \
		test-unit test-integration
	@if ls build/$@/reports/* >/dev/null 2>&1; then \
		echo "$@: sanitizer reports:"; cat build/$@/reports/*; exit 1; fi
	@echo "$@: no sanitizer reports"

clean:
	rm -rf $(BUILD)

# The house style is .clang-format (Debian 12's clang-format 14). `make format-check` fails on
# any difference and is part of `make test`; `make fmt` rewrites the files in place.
CLANG_FORMAT ?= clang-format
FMT_SRC = $(shell find server core io proto bench tests -name '*.[ch]' | LC_ALL=C sort)
format-check:
	@$(CLANG_FORMAT) --dry-run --Werror $(FMT_SRC)
	@echo "format-check: $(words $(FMT_SRC)) files follow .clang-format"

fmt:
	$(CLANG_FORMAT) -i $(FMT_SRC)

include tests/tests.mk
include tests/fuzz/fuzz.mk
include bench/bench.mk
