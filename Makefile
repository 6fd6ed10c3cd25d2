# ferry's Makefile is a thin wrapper around the go tool; see README.md.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
export CGO_ENABLED := 0
SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: all build demo test test-crash test-interop lint bench bench-go fuzz clean
all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ferry .

# demo: a server and a client on loopback, an 8 MiB file moved and verified.
demo: build
	./scripts/demo.sh bin/ferry

# test: vet and every test with the race detector (the race detector needs cgo).
# The router builds' path resolution (ferry_nofolders: os.Root, no open
# folder handles) is tested again with their tag.
# third_party/serial is its own module (go.bug.st/serial with ferry's patch,
# docs/BOARDS.md): ./... does not reach it, so its patch's test runs here.
test:
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -tags ferry_nofolders ./fsstore ./client ./server
	cd third_party/serial && $(GO) test -count=1 -run PortFilters .

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@command -v shellcheck >/dev/null || { echo "lint: shellcheck is missing (apt-get install shellcheck)"; exit 1; }
	shellcheck $$(git ls-files '*.sh')

# bench: every Go benchmark; bench/*.mk add their own prerequisites
# (the scp/sftp comparison, the serial ZMODEM comparison).
bench: bench-go
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# fuzz: every fuzz target for FUZZTIME each (go test fuzzes one at a time).
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./frame:FuzzParseRequest ./frame:FuzzParseResponse ./frame:FuzzPayloads ./frame:FuzzOps \
	./classic:FuzzDecodeRequest ./classic:FuzzDecodeResponse ./classic:FuzzServeConn \
	./fsstore:FuzzDecodeRecord ./fsstore:FuzzScan ./fsstore:FuzzFileRecord ./fsstore:FuzzValidatePath \
	./link:FuzzDecoder ./safe:FuzzText \
	./crypt:FuzzClientHello ./crypt:FuzzServerHello ./crypt:FuzzKnownHosts ./client:FuzzStateFile \
	./shell:FuzzSplit
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

# test-crash: the crash harnesses, 200 SIGKILLs each: fsstore's writer
# process, then the real ferry server under concurrent uploads. Every
# acknowledged record and file must survive, and every restart must open.
test-crash:
	$(GO) test -count=1 -run TestCrash -v ./fsstore -crash.kills 200 | tail -n 5
	$(GO) test -count=1 -run TestServerCrash -v . -server-kills 200 | tail -n 4

# test-attacks: the resource attacks of issue 16 against the real binary,
# at CI scale (attack/): 400 connections against a server under prlimit -n
# 256, idle, reconnecting and with caps above the descriptor limit; a 32 MiB
# tmpfs filled and freed (needs root to mount, skipped otherwise). An honest
# upload must succeed during and after each; the "result:" lines give the
# connections held, RSS and upload times.
.PHONY: test-attacks
test-attacks: build
	$(GO) test -tags attacks -count=1 -v ./attack -ferry $(CURDIR)/bin/ferry | grep -v '^=== '

# test-interop: the classic protocol against independent Python
# implementations of the seed-004 client and server, and a C++ client built
# on Crypto++ and Boost.Asio like the deployed ones (needs Debian's
# python3-cryptography, g++, libcrypto++-dev and libboost-dev).
test-interop:
	$(GO) test -tags interop -count=1 ./classic

# test-install: ferry install against a real busybox ash (Debian's busybox
# package) on a pseudo-terminal behind the simulated line, with only stock
# OpenWrt's applets in its PATH: login, noise, damaged pieces, a resumed
# install, the errors, the real binary at 115200 through a login and a
# banner then ferry send over the same cable (about five minutes), and the
# router build (dist/ferry-ath79) pushed at 921600 baud (half a
# minute; INSTALL_ROUTER_BAUD=115200 measures a console's usual rate, about
# four minutes). Not in "make test": it needs busybox.
# test-install-console and test-install-rest split it in two: the console
# install at 115200 (five minutes of line time, little CPU, no router
# build needed), which .ci/run runs beside its later steps, and the rest.
INSTALL_ROUTER_BAUD ?= 921600
INSTALL_TEST    = INSTALL_ROUTER_BAUD=$(INSTALL_ROUTER_BAUD) $(GO) test -tags busybox -count=1 -timeout 20m -v
INSTALL_SHOW    = grep -E '^(=== RUN|--- |PASS|FAIL|ok|    [a-z_]+_test.go)'
INSTALL_CONSOLE = ^TestInstallBinaryThenServe$$
.PHONY: test-install test-install-console test-install-rest
test-install: board-ath79
	$(INSTALL_TEST) ./install | $(INSTALL_SHOW)
test-install-console:
	$(INSTALL_TEST) -run '$(INSTALL_CONSOLE)' ./install | $(INSTALL_SHOW)
test-install-rest: board-ath79
	$(INSTALL_TEST) -skip '$(INSTALL_CONSOLE)' ./install | $(INSTALL_SHOW)

clean:
	rm -rf bin dist

-include boards/boards.mk
-include bench/*.mk
