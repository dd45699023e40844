# SPDX-License-Identifier: Apache-2.0
# The shim's worst stack chains, from GCC's call graphs (-fcallgraph-info=su: one .ci file per
# object, every function with its frame size and its direct calls). For each function: its
# frame plus the worst chain of direct calls below it, through the shim's own functions (libc
# and the libraries count 0: not known here; an indirect call, such as a worker running a job
# or the loop running a callback, starts a new chain, whose head is listed on its own).
# Recursion makes a chain unbounded: any cycle not listed in ALLOW (space-separated function
# titles whose recursion is bounded by a depth limit in their code) fails the report.
#   awk -v TOP=10 -v ALLOW="core/pathcheck.c:remove_at" -f tests/stack-chains.awk build/obj/**/*.ci

function strip(s) {
	sub(/^[^"]*"/, "", s)
	sub(/".*$/, "", s)
	return s
}

/^node:/ {
	t = $0
	sub(/^node: \{ title: /, "", t)
	title = strip(t)
	if (match($0, /\\n[0-9]+ bytes/)) {
		b = substr($0, RSTART + 2, RLENGTH - 2)
		sub(/ bytes/, "", b)
		size[title] = b + 0
	}
	next
}

/^edge:/ {
	s = $0
	sub(/^edge: \{ sourcename: /, "", s)
	src = strip(s)
	d = $0
	sub(/^.*targetname: /, "", d)
	dst = strip(d)
	key = src SUBSEP dst
	if (!(key in seen)) {
		seen[key] = 1
		nout[src]++
		out[src, nout[src]] = dst
	}
}

# Worst chain from f (its own frame included); 0 for functions without a known frame.
# state: 1 on the current path, 2 done.
function worst(f,    i, g, w, best, bestg) {
	if (!(f in size))
		return 0
	if (state[f] == 2)
		return memo[f]
	if (state[f] == 1) {
		cycle[f] = 1
		return 0
	}
	state[f] = 1
	best = 0
	bestg = ""
	for (i = 1; i <= nout[f]; i++) {
		g = out[f, i]
		if (g == f) {
			cycle[f] = 1
			continue
		}
		w = worst(g)
		if (w > best) {
			best = w
			bestg = g
		}
	}
	state[f] = 2
	memo[f] = size[f] + best
	via[f] = bestg
	return memo[f]
}

function chain(f,    s) {
	s = f " (" size[f] ")"
	while (via[f] != "") {
		f = via[f]
		s = s " > " f " (" size[f] ")"
	}
	return s
}

END {
	if (TOP == "")
		TOP = 10
	n = 0
	for (f in size) {
		worst(f)
		names[++n] = f
	}
	# selection of the TOP worst (n is a few hundred)
	for (k = 1; k <= TOP && k <= n; k++) {
		m = k
		for (j = k + 1; j <= n; j++)
			if (memo[names[j]] > memo[names[m]])
				m = j
		tmp = names[k]
		names[k] = names[m]
		names[m] = tmp
		printf "%7d  %s\n", memo[names[k]], chain(names[k])
	}
	split(ALLOW, allowed, " ")
	for (i in allowed)
		ok[allowed[i]] = 1
	bad = 0
	for (f in cycle) {
		if (f in ok) {
			printf "recursion (bounded by a depth limit, allowed): %s\n", f
		} else {
			printf "recursion (unbounded stack): %s\n", f
			bad = 1
		}
	}
	exit bad
}
