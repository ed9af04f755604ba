# SPDX-License-Identifier: GPL-2.0
#
# rust-dma-heaps: build the module, and run the demo and the tests.
#
#   make KDIR=<kernel build dir>   build rust_dma_heap.ko against that kernel
#   make demo                      build everything, boot a VM, show it working
#   make check                     every test, every architecture and flavour
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

check:
	@tools/testing/check

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
# must turn its part of the suite red. Not part of make check.
mutants:
	@tools/testing/mutants/run

# Linux 7.3 (the mainline flavours); not part of `make check` until its
# whole suite passes there.
check-mainline:
	@tools/testing/check --mainline

# rust_dma_heap against upstream's C heaps, same source, same machine, same
# run; ROUNDS= boots of each (default 3). Writes results/bench/ and the
# table in Documentation/performance.md.
bench:
	@tools/testing/bench/run $(or $(ROUNDS),3) --update-doc

.PHONY: demo check check-quick check-mainline shell stress fuzz mutants bench
