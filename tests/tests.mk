# SPDX-License-Identifier: Apache-2.0
# Test tiers. `make test` runs them all: unit (cmocka), integration (the built binary over its
# socket, side by side with the Go shim), end to end (a private containerd 1.6 and ctr).

TEST_PKGS   := libprotobuf-c liburcu-memb liburcu-cds jansson nettle cmocka
TEST_CFLAGS := $(CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null) -pthread
# the same allocator as the shim (io/memtrim.c talks to jemalloc when it is the allocator)
ifeq ($(USE_JEMALLOC),1)
TEST_LIBS   += $(shell pkg-config --variable=libdir jemalloc 2>/dev/null)/libjemalloc_pic.a -lm
endif
GOSHIM      ?= /usr/bin/containerd-shim

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
IT_LIB    := tests/integration/shimclient.c tests/integration/launch.c
IT_SRC    := tests/integration/test_shim.c $(IT_LIB)
IT_BIN    := $(BUILD)/tests/test_integration
# More integration programs: the differential error table, the exec/Wait storms, the fork
# storm in the host pid namespace.
IT_MORE   ?= errors stress abuse tty soak storm forward v2 v2delete
# Companion sources shared by name across programs.
IT_EXTRA_v2 := tests/integration/forward_server.c
IT_MORE_BINS := $(patsubst %,$(BUILD)/tests/test_%,$(IT_MORE))

# The shim with its failpoints compiled in (io/stdio.c with -DCSHIM_FAILPOINTS; the other
# objects are build/bin/cshim's): faults nothing outside can cause, for test_integration.
# The linker takes io/stdio's symbols from the first object, so libcshim.a's stdio.o stays out.
FP_BIN := $(BUILD)/tests/cshim-fp
$(BUILD)/tests/obj/stdio-fp.o: io/stdio.c $(GEN_H) $(wildcard io/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DCSHIM_FAILPOINTS -c -o $@ $<

$(FP_BIN): $(BUILD)/obj/server/main.o $(BUILD)/tests/obj/stdio-fp.o $(BUILD)/libcshim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(BIN_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libcshim.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libcshim.a $(TEST_LIBS)

$(IT_BIN): $(IT_SRC) $(wildcard tests/integration/*.h) $(BUILD)/libcshim.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $(IT_SRC) $(BUILD)/libcshim.a $(TEST_LIBS)

# A program may have companion sources named after it: tests/integration/abuse_*.c are
# test_abuse's harness and cases.
.SECONDEXPANSION:
$(IT_MORE_BINS): $(BUILD)/tests/test_%: tests/integration/test_%.c \
		$$(wildcard tests/integration/$$*_*.c) $$(IT_EXTRA_$$*) $(IT_LIB) \
		$(wildcard tests/integration/*.h) $(BUILD)/libcshim.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(wildcard tests/integration/$*_*.c) $(IT_EXTRA_$*) $(IT_LIB) \
		$(BUILD)/libcshim.a $(TEST_LIBS)

# Each stage of `make test` is timed: "== stage ...: N s" after it, and the list at the end.
TEST_TIMES = $(BUILD)/test-times.txt
STAGE = @echo '$(MAKE) $(1)'; s=$$(date +%s); $(MAKE) $(1) || exit $$?; \
	t=$$(($$(date +%s) - s)); echo "== stage $(strip $(2)): $$t s" | tee -a $(TEST_TIMES)

test: deps
	@mkdir -p $(BUILD) && rm -f $(TEST_TIMES)
	$(call STAGE,format-check,format-check)
	$(call STAGE,$(BUILD_J) all $(UNIT_BINS) $(IT_BIN) $(FP_BIN) $(IT_MORE_BINS) bench-build,build)
	$(call STAGE,stack-report,stack-report)
	$(call STAGE,test-unit test-integration,test-unit test-integration)
	$(call STAGE,asan,asan)
	$(call STAGE,tsan,tsan)
	$(call STAGE,test-fuzz,test-fuzz)
	$(call STAGE,test-fuzz-selftest,test-fuzz-selftest)
	$(call STAGE,test-e2e,test-e2e)
	$(call STAGE,test-cri,test-cri)
	$(call STAGE,test-docker,test-docker)
	@awk '{ print; s += $$(NF - 1) } END { print "== make test: " s " s" }' $(TEST_TIMES)

san-bins: $(UNIT_BINS) $(IT_BIN) $(FP_BIN) $(IT_MORE_BINS)

test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $(SAN_ENV) $$t; done

# test_errors' Go answers: recorded by the plain run, read by `make asan`/`make tsan` instead of
# running the Go shim again (only when newer than test_errors' sources; the program also checks
# the table and the Go shim it was made with).
ERR_GO_ANSWERS := build/tests/test_errors.go-answers
ERR_GO_FRESH = $(shell f=$(ERR_GO_ANSWERS); for s in tests/integration/test_errors.c $(IT_LIB) \
	$(wildcard tests/integration/*.h); do [ "$$f" -nt "$$s" ] || exit 0; done; echo "$$f")
# test_abuse's Go shim runs are a printed reference only (never a pass or a failure), about
# 45 s of `make test`: off unless ABUSE_GO=1 (`make test-integration ABUSE_GO=1`).
ABUSE_GO ?= 0
IT_ENV = $(if $(SAN_ENV),,CSHIM_ERR_GO_RECORD=$(abspath $(ERR_GO_ANSWERS)) CSHIM_ABUSE_GO=$(ABUSE_GO))

test-integration: $(BIN) $(IT_BIN) $(FP_BIN) $(IT_MORE_BINS)
	@set -e; echo "== $(IT_BIN)"; s=$$(date +%s); \
		$(SAN_ENV) CSHIM=$(abspath $(BIN)) CSHIM_FP=$(abspath $(FP_BIN)) GOSHIM=$(GOSHIM) $(IT_BIN); \
		echo "== $(IT_BIN): $$(($$(date +%s) - s)) s"
	@set -e; for t in $(IT_MORE_BINS); do echo "== $$t"; s=$$(date +%s); \
		$(IT_ENV) $(SAN_ENV) CSHIM=$(abspath $(BIN)) GOSHIM=$(GOSHIM) $$t; \
		echo "== $$t: $$(($$(date +%s) - s)) s"; done

# The soak: 10^5 exec cycles (about 35 minutes here), fds and RSS flat, every exit once.
# `make test` runs the same program with 300 cycles.
STRESS_CYCLES ?= 100000
stress: $(BIN) $(BUILD)/tests/test_soak
	CSHIM=$(abspath $(BIN)) CSHIM_SOAK_CYCLES=$(STRESS_CYCLES) CSHIM_IT_TIMEOUT=7200 \
		$(BUILD)/tests/test_soak

test-e2e: $(BIN)
	bash tests/e2e/run.sh $(abspath $(BIN))
	bash tests/e2e/v2.sh $(abspath $(BIN))

# The CRI tier: containerd's CRI plugin drives the built shim, as the v1 runtime's shim, then
# as a runtime v2 shim (one per pod). Both run; either failing fails the target.
test-cri: $(BIN)
	@rc=0; bash tests/cri/run.sh $(abspath $(BIN)) || rc=1; \
		bash tests/cri/run.sh --v2 $(abspath $(BIN)) || rc=1; exit $$rc

# The same CRI cases with the Go shims (v1, then runc-v2): a reference, never counted (kept
# out of `make test`).
GOSHIM_V2 ?= /usr/bin/containerd-shim-runc-v2
ref-cri:
	@bash tests/cri/run.sh $(GOSHIM) 2>&1 | sed 's/^/[reference] /' || true
	@bash tests/cri/run.sh --v2 $(GOSHIM_V2) 2>&1 | sed 's/^/[reference] /' || true

# Figures through CRI (exit to Wait / event / EXITED, concurrent ExecSync), the built shim and
# the Go shim side by side; CRI_PROBE_ARGS e.g. "--rounds 10 --burst 20". No pass or fail.
CRI_PROBE_ARGS ?=
probe-cri: $(BIN)
	bash tests/cri/probe.sh $(abspath $(BIN)) $(GOSHIM) -- $(CRI_PROBE_ARGS)

# containerd v1.6.20's own integration/client suite, Go shim then cshim; prints the differences.
# Not in `make test`: its sources are not in a Debian package (see tests/ctdsuite/run.sh).
test-ctdsuite: $(BIN)
	bash tests/ctdsuite/run.sh compare $(GOSHIM) $(abspath $(BIN))

# Docker 20.10 (Debian's docker.io) on a private containerd whose v1 runtime
# uses cshim; about 40 s.
test-docker: $(BIN)
	bash tests/docker/run.sh $(abspath $(BIN))

demo: deps
	$(MAKE) all
	bash tests/demo.sh $(abspath $(BIN))
