# bench-serial: ferry against ZMODEM (lrzsz sz/rz) over the same simulated
# 115200 baud line (cmd/linesim): clean, BER 1e-5, BER 1e-4, 0.01% dropped
# bytes; rewrites the serial section of docs/BENCHMARKS.md. See
# bench/serial/run.sh (RUNS, SIZE, BAUD, ZTIMEOUT, CASES; installs lrzsz).
.PHONY: bench-serial
bench: bench-serial
bench-serial:
	./bench/serial/run.sh
