# SPDX-License-Identifier: GPL-2.0
#
# rust-dma-heaps: build the module, and run the demo and the tests.
#
#   make KDIR=<kernel build dir>   build rust_dma_heap.ko against that kernel
#   make demo                      build everything, boot a VM, show it working
#   make check                     the tests, on both kernels (and arm64 once cached)
#   make check-all                 ... and on every kernel flavour
#
# See README.md.

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_RUST_DMA_HEAPS=m modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: all modules clean

# ---- the project's own commands (they install what is missing first) ----

demo:
	@tools/testing/demo

# Under CI (CI=true, as .ci/run is run), make check runs x86_64, debug,
# mainline and arm64 every time, building whichever kernel is not cached.
check:
	@tools/testing/check $(if $(filter true,$(CI)),--ci)

# Every flavour: make check's and the ones a cold run has no time for.
check-all:
	@tools/testing/check --all

check-quick:
	@tools/testing/check --quick

shell:
	@tools/testing/run-in-vm --interactive

# The bug hunt at larger sizes (x86_64 and the debug kernel), with figures.
stress:
	@tools/testing/check --stress

# heap-fuzz for SECONDS (default 300); SEED= replays, FLAVOUR= picks the kernel.
fuzz:
	@SECONDS_TO_FUZZ=$(or $(SECONDS),300) tools/testing/fuzz

# Deliberately broken builds of the module (tools/testing/mutants/): each
# must turn red the check meant to catch it. make check runs them too.
mutants:
	@tools/testing/mutants/run

# Linux 7.3 alone: the three mainline flavours.
check-mainline:
	@tools/testing/check --mainline

# rust_dma_heap against upstream's C heaps, same source and configuration,
# same machine, same run: ROUNDS= boots of each kernel and as many paired
# boots (default 5). Writes results/bench/ and the tables in
# Documentation/performance.rst.
bench:
	@tools/testing/bench/run $(or $(ROUNDS),5) --update-doc

# The same on Linux 7.3, against its own C heaps (the mainline flavour).
bench-mainline:
	@tools/testing/bench/run $(or $(ROUNDS),5) --mainline --update-doc

.PHONY: demo check check-all check-quick check-mainline shell stress fuzz mutants bench bench-mainline
