# bench-shell: 20 small operations over a simulated 115200-baud serial line,
# in one "ferry shell -b" and as 20 one-shot commands (BenchmarkShellSerial
# in shell_e2e_test.go); prints both times and the ratio, and fails when
# the shell is not 5x faster. Once: it takes a few seconds.
.PHONY: bench-shell
bench-shell:
	$(GO) test -run '^$$' -bench '^BenchmarkShellSerial$$' -benchtime 1x -count 1 .
