# bench-serial: ferry against ZMODEM (lrzsz sz/rz) over the same simulated
# 115200 baud line (cmd/linesim): clean, BER 1e-5, BER 1e-4, 0.01% dropped
# bytes; rewrites the serial section of docs/BENCHMARKS.md. See
# bench/serial/run.sh (RUNS, SIZE, BAUD, ZTIMEOUT, CASES; installs lrzsz).
.PHONY: bench-serial
bench: bench-serial
bench-serial:
	./bench/serial/run.sh

# bench-serial-pty: ferry over real pseudo-terminals joined by a second,
# independent line simulator (bench/serial/ptysim.py): clean, BER 1e-5 and
# 1e-4 on all 10 bits of a byte, dropped bytes, a 30 s outage, a banner;
# rewrites its section of docs/BENCHMARKS.md. See bench/serial/pty.sh.
.PHONY: bench-serial-pty
bench: bench-serial-pty
bench-serial-pty:
	./bench/serial/pty.sh

# bench-slowlink: compression on text against ZMODEM, its cost on random
# data, small uploads after a banner (clean, BER 1e-5), and a resume after
# an outage longer than -link-timeout, at 115200 over cmd/linesim; rewrites
# its section of docs/BENCHMARKS.md. See bench/serial/slowlink.sh.
.PHONY: bench-slowlink
bench: bench-slowlink
bench-slowlink:
	./bench/serial/slowlink.sh

# bench-resume: the resume case of bench-slowlink alone, with its
# reference run (bench/serial/resume.sh; about a minute a run; RUNS=3).
.PHONY: bench-resume
bench-resume:
	./bench/serial/resume.sh
