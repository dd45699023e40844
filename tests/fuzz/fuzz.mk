# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets (Debian's clang). `make fuzz` runs each for FUZZ_SECONDS and keeps what it
# finds in tests/fuzz/corpus/<target>/; `make test-fuzz` (part of `make test`) replays the
# corpora and runs each target briefly (new inputs go to build/fuzz/new-<target>/). A crash fails and leaves crash-* in build/fuzz/.
FUZZ_TARGETS := frame request runtime_log args
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 300
FUZZ_BRIEF   ?= 5
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz test-fuzz fuzz-bins fuzz-lib
# The library, built by clang with coverage instrumentation, in its own build dir.
fuzz-lib:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang USE_JEMALLOC=0 \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_BUILD)/libcshim.a

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_decode.c fuzz-lib
	clang -O1 -g -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I. -I$(FUZZ_BUILD)/gen \
		-fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< tests/fuzz/fuzz_decode.c \
		$(FUZZ_BUILD)/libcshim.a $(shell pkg-config --libs libprotobuf-c liburcu-memb liburcu-cds jansson 2>/dev/null) -pthread

fuzz-bins: fuzz-lib
	$(MAKE) $(FUZZ_BINS)

fuzz: deps fuzz-bins
	@set -e; for t in $(FUZZ_TARGETS); do mkdir -p tests/fuzz/corpus/$$t; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		(cd $(FUZZ_BUILD) && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(abspath tests/fuzz/corpus)/$$t) 2>&1 | grep -E '^(stat::number_of_executed_units|stat::peak_rss|==.*ERROR|SUMMARY)|Done'; done

test-fuzz: fuzz-bins
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz_$$t: replay tests/fuzz/corpus/$$t, then $(FUZZ_BRIEF) s"; \
		rm -rf $(FUZZ_BUILD)/new-$$t && mkdir -p $(FUZZ_BUILD)/new-$$t; \
		(cd $(FUZZ_BUILD) && ./fuzz_$$t -runs=0 $(abspath tests/fuzz/corpus)/$$t 2>&1 | tail -1 && \
		 ./fuzz_$$t -max_total_time=$(FUZZ_BRIEF) new-$$t $(abspath tests/fuzz/corpus)/$$t \
			2>&1 | tail -1); \
	done
