# bench-ops: the two-way operations of issue 12: ferry get of 512 MiB against
# ferry send, scp and a plain socat copy, peak RSS of get from 10 MiB to 1 GiB;
# send -r and get -r of 10,000 small files against rsync and scp -r; folders
# and downloads over a simulated 115200 baud line. Rewrites the ops-get,
# ops-tree and ops-serial sections of docs/BENCHMARKS.md. See bench/ops/run.sh
# (RUNS=3 by default; PARTS="get tree serial" picks parts).
.PHONY: bench-ops
bench: bench-ops
bench-ops:
	./bench/ops/run.sh
