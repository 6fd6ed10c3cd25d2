# bench-perf: ferry against OpenSSH scp/sftp on loopback, peak RSS, allocations,
# handshake cost and 256 concurrent clients; rewrites the perf section of
# docs/BENCHMARKS.md and docs/perf.png. See bench/perf/run.sh (RUNS=3 by default).
.PHONY: bench-perf
bench: bench-perf
bench-perf:
	./bench/perf/run.sh
