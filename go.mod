module ferry

go 1.26.0

toolchain go1.26.8

require (
	github.com/sigurn/crc16 v0.0.0-20211026045750-20ab5afb07e3
	go.bug.st/serial v1.8.0
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

replace go.bug.st/serial => ./third_party/serial
