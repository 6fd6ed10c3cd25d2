# boards.mk: the cross-builds of every board profile (boards/<name>.env), their
# size budget, and the test binaries and an end-to-end transfer run under
# qemu-user. Included by the Makefile, which sets GO, VERSION and LDFLAGS.
# See docs/BOARDS.md.

BOARDS      := $(patsubst boards/%.env,%,$(wildcard boards/*.env))
SIZE_BUDGET ?= 5767168
XZ_BUDGET   ?= 1468006

.PHONY: boards size size-report test-cross rss-cross check-services $(BOARDS:%=board-%)

# boards: dist/ferry-<profile>[.exe] for every profile.
boards: $(BOARDS:%=board-%)

# board-<profile>: one of them; the .env file sets GOOS, GOARCH, GOARM,
# GOMIPS and TAGS, and for the routers INLINE_ONLY and LDEXTRA (boards/build.sh).
$(BOARDS:%=board-%): board-%:
	@unset GOOS GOARCH GOARM GOMIPS GOEXPERIMENT TAGS INLINE_ONLY LDEXTRA; set -a; . ./boards/$*.env; set +a; \
	ext=; if [ "$$GOOS" = windows ]; then ext=.exe; fi; \
	echo "dist/ferry-$*$$ext: $$GOOS/$$GOARCH $${GOARM:+GOARM=$$GOARM }$${GOMIPS:+GOMIPS=$$GOMIPS }-tags $$TAGS$${INLINE_ONLY:+ (inlining only in the hot paths)}$${LDEXTRA:+ $$LDEXTRA}$${GOEXPERIMENT:+ GOEXPERIMENT=$$GOEXPERIMENT}"; \
	GO="$(GO)" ./boards/build.sh $* dist/ferry-$*$$ext "$(LDFLAGS)"

# size: the size of every build; fails when a mips or mipsle build is over
# SIZE_BUDGET bytes (5.5 MiB) or, compressed with xz -9e, over XZ_BUDGET
# bytes (1.4 MiB), and then says what costs the bytes; also when the
# ath79 build links a package or function kept out for size. Then what
# each feature of boards/features.txt costs in the ath79 build.
# The feature table comes also when a check failed; the target fails then.
size: boards
	@rc=0; \
	./boards/size.sh check dist $(SIZE_BUDGET) $(XZ_BUDGET) || rc=1; \
	GO="$(GO)" ./boards/size.sh linked ath79 || rc=1; \
	GO="$(GO)" ./boards/size.sh features ath79 || rc=1; \
	exit $$rc

# size-report: the packages that cost the most bytes in the ath79 build.
size-report:
	@./boards/size.sh report ath79

# test-cross: every package's tests for arm (v6), arm64, mips and mipsle under
# qemu-user (qemu-user-static must be installed), then transfers between the
# native build and the big-endian (ath79) and little-endian (ramips) router
# builds under qemu.
# Each part runs even when an earlier one failed; the target fails if any did.
test-cross: build board-ath79 board-ramips-mt7621
	@rc=0; \
	./boards/test-cross.sh || rc=1; \
	./boards/e2e-cross.sh bin/ferry dist/ferry-ath79 mips || rc=1; \
	./boards/e2e-cross.sh bin/ferry dist/ferry-ramips-mt7621 mipsle || rc=1; \
	exit $$rc

# rss-cross: peak RSS of the two router builds on the device, under
# qemu-user: the guest's own pages, apart from the emulator's (see the
# script); a 100 MiB upload each way; fails over 16 MiB.
rss-cross: build board-ath79 board-ramips-mt7621
	@./boards/rss-cross.sh bin/ferry dist/ferry-ramips-mt7621 mipsle
	@./boards/rss-cross.sh bin/ferry dist/ferry-ath79 mips

# check-services: the OpenWrt init script and the systemd unit, checked in
# place (needs shellcheck and systemd-analyze).
check-services:
	@./boards/check-services.sh
