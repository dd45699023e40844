# SPDX-License-Identifier: Apache-2.0
# cshim-bench and `make bench` (included by the top Makefile: `include bench/bench.mk`).
# Uses CC, BUILD, CFLAGS, LDLIBS and BIN from the top Makefile.

BENCH_BIN   := $(BUILD)/bin/cshim-bench
BENCH_SRC   := $(wildcard bench/*.c)
BENCH_REUSE := tests/integration/launch.c tests/integration/shimclient.c
BENCH_OUT   ?= bench/results
BENCH_ARGS  ?=
GOSHIM      ?= /usr/bin/containerd-shim
GOSHIMV2    ?= /usr/bin/containerd-shim-runc-v2

.PHONY: bench bench-v2 bench-build bench-indep

bench-build: $(BENCH_BIN)

$(BENCH_BIN): $(BENCH_SRC) $(wildcard bench/*.h) $(BENCH_REUSE) $(wildcard tests/integration/*.h) \
              $(BUILD)/libcshim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(BENCH_SRC) $(BENCH_REUSE) $(BUILD)/libcshim.a $(LDLIBS) -lm

# Builds, then: compare (Go shim vs cshim) for State/ListPids/ShimInfo at 1, 8 and 64
# connections, pingpong, churn, exitwait 20 and execs 10 (a private containerd receives the
# shims' events) and density 50; then the runtime v2 table (runc-v2 vs cshim, both started
# through `start`: pods, State/Pids/Stats, exitwait, execs); JSON + SVG under $(BENCH_OUT).
bench: $(BIN) $(BENCH_BIN)
	CSHIM_BENCH_DIR=$(abspath bench) $(BENCH_BIN) suite --go $(GOSHIM) --gov2 $(GOSHIMV2) \
		--cshim $(abspath $(BIN)) --out $(BENCH_OUT) $(BENCH_ARGS)

# The v2 table alone (cshim-bench v2).
bench-v2: $(BIN) $(BENCH_BIN)
	$(BENCH_BIN) v2 $(GOSHIMV2) $(abspath $(BIN)) --out $(BENCH_OUT) $(BENCH_ARGS)

# The State/ShimInfo comparisons again with an independent client (bench/goclient: containerd's
# own Go ttrpc client), Go shim vs cshim; installs Debian's Go packages when missing.
bench-indep: $(BIN) $(BENCH_BIN)
	GOSHIM=$(GOSHIM) CSHIM=$(abspath $(BIN)) BENCH=$(abspath $(BENCH_BIN)) OUT=$(BENCH_OUT) \
		bash bench/indep.sh
