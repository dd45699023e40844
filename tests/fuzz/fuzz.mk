# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets (Debian's clang). `make fuzz` runs each for FUZZ_SECONDS and keeps what it
# finds in tests/fuzz/corpus/<target>/; `make test-fuzz` (part of `make test`) replays the
# corpora and runs each target briefly (new inputs go to build/fuzz/new-<target>/). A crash, a
# sanitizer report or a broken invariant fails the recipe and leaves crash-* in build/fuzz/;
# `make test-fuzz-selftest` proves it with a planted crash.
FUZZ_TARGETS := frame request runtime_log args strings wirelen path
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 300
FUZZ_BRIEF   ?= 5
# Where the targets are built and run (crash-* land there), the corpora, extra -D flags:
# tests/fuzz/selftest.sh builds a planted crash (-DFUZZ_PLANT_CRASH) in a dir of its own.
FUZZ_BIN_DIR ?= $(FUZZ_BUILD)
FUZZ_CORPUS  ?= tests/fuzz/corpus
FUZZ_DEFS    ?=
FUZZ_BINS    := $(patsubst %,$(FUZZ_BIN_DIR)/fuzz_%,$(FUZZ_TARGETS))
# Each fuzzer runs through tests/fuzz/run.sh: its output goes to a log, never into a pipe, so
# its exit status (a crash, a sanitizer report, a leak) is the recipe's.
FUZZ_RUN     := sh $(abspath tests/fuzz/run.sh)

.PHONY: fuzz test-fuzz fuzz-bins fuzz-lib test-fuzz-selftest
# The library, built by clang with coverage instrumentation, in its own build dir.
fuzz-lib:
	$(MAKE) $(BUILD_J) BUILD=$(FUZZ_BUILD) CC=clang USE_JEMALLOC=0 \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_BUILD)/libcshim.a

$(FUZZ_BIN_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_decode.c fuzz-lib
	@mkdir -p $(dir $@)
	clang -O1 -g -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE $(FUZZ_DEFS) -pthread -I. \
		-I$(FUZZ_BUILD)/gen -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< tests/fuzz/fuzz_decode.c \
		$(FUZZ_BUILD)/libcshim.a $(shell pkg-config --libs libprotobuf-c liburcu-memb liburcu-cds jansson 2>/dev/null) -pthread

fuzz-bins: fuzz-lib
	$(MAKE) $(BUILD_J) $(FUZZ_BINS)

fuzz: deps fuzz-bins
	@set -e; for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_CORPUS)/$$t; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		(cd $(FUZZ_BIN_DIR) && $(FUZZ_RUN) --stats fuzz-$$t.log -- ./fuzz_$$t \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(abspath $(FUZZ_CORPUS))/$$t); done

# The targets run FUZZ_JOBS at a time, each on a core of its own for its FUZZ_BRIEF seconds, as
# when they ran one after the other; each one's output is printed in one block when it ends,
# and any failure fails the recipe (xargs' status) once all have ended.
FUZZ_JOBS ?= $(BUILD_JOBS)
test-fuzz: fuzz-bins
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(FUZZ_JOBS) -I '{}' sh -c 't=$$1; \
		out=$(FUZZ_BIN_DIR)/test-$$t.out; \
		rm -rf $(FUZZ_BIN_DIR)/new-$$t && mkdir -p $(FUZZ_BIN_DIR)/new-$$t || exit 1; \
		(cd $(FUZZ_BIN_DIR) && \
		 $(FUZZ_RUN) replay-$$t.log -- ./fuzz_$$t -runs=0 $(abspath $(FUZZ_CORPUS))/$$t && \
		 $(FUZZ_RUN) brief-$$t.log -- ./fuzz_$$t -max_total_time=$(FUZZ_BRIEF) new-$$t \
			$(abspath $(FUZZ_CORPUS))/$$t) >$$out 2>&1; rc=$$?; \
		echo "== fuzz_$$t: replay $(FUZZ_CORPUS)/$$t, then $(FUZZ_BRIEF) s"; cat $$out; \
		exit $$rc' sh '{}'

# The recipes above must fail when a target crashes: a target built with a planted crash is
# run through them (make test runs this after test-fuzz).
test-fuzz-selftest: fuzz-lib
	sh tests/fuzz/selftest.sh
