# SPDX-License-Identifier: GPL-2.0
#
# The DMA IOVA series on Debian's linux-source-6.12: assemble, build,
# test and export it.  "make help" lists the targets.

HARNESS := tools/testing/dma-iova
TREE := build/linux
KBUILD := $(CURDIR)/build/kernel
KERNEL := $(KBUILD)/arch/x86/boot/bzImage
INITRAMFS := build/initramfs.cpio
KUNITCONFIG := kernel/configs/dma-iova-test.config
# What the NVMe over RDMA boot case adds to the test kernel.
RDMACONFIG := $(CURDIR)/$(HARNESS)/rdma.config
# INJECT=1 adds harness.config (fault injection) for the inject setup.
# It is off by default: CONFIG_FAULT_INJECTION adds a field to struct
# task_struct, so turning it on rebuilds the whole kernel once.
HARNESSCONFIG := $(if $(INJECT),--kunitconfig=$(CURDIR)/$(HARNESS)/harness.config)
QEMU_CONFIG := $(CURDIR)/$(HARNESS)/qemu_configs/x86_64_dma.py
JOBS ?= $(shell nproc)

# ccache hashes the working directory and absolute paths unless told
# otherwise; with these, a clone in another folder hits the same cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
# Decided when a recipe runs, after deps.sh has installed ccache: a first
# build on a fresh machine must not go without it and the next redo all.
KCC = $(if $(shell command -v ccache),--make_options CC="ccache gcc")

.PHONY: help deps tree refresh build check run bench series lint clean

help:
	@echo 'make run      build, boot under intel-iommu and show a verified fio run'
	@echo 'make check    build, run the KUnit suites and the boot matrix'
	@echo '             (SETUPS="none intel-lazy" runs those setups only;'
	@echo '             INJECT=1 adds fault injection and the inject setup)'
	@echo 'make bench    benchmark the mapping paths in QEMU, print a table'
	@echo 'make tree     assemble build/linux: pristine base + series as commits'
	@echo 'make refresh  write the commits of build/linux back to the overlay'
	@echo 'make series   export out/series (git format-patch) and check git am'
	@echo 'make lint     checkpatch, kernel-doc, sparse and W=1 on the series'
	@echo 'make clean    remove build/ and out/'

deps:
	@$(HARNESS)/deps.sh

tree: deps
	@$(HARNESS)/dma_iova_tree.py tree $(if $(FORCE),--force)

refresh: deps
	@$(HARNESS)/dma_iova_tree.py refresh

build: tree
	@echo '  BUILD   $(KUNITCONFIG) + rdma.config$(if $(INJECT), + harness.config) -> build/kernel'
	@cd $(TREE) && ./tools/testing/kunit/kunit.py build \
		--kunitconfig=$(KUNITCONFIG) --kunitconfig=$(RDMACONFIG) \
		$(HARNESSCONFIG) \
		--qemu_config=$(QEMU_CONFIG) \
		--build_dir=$(KBUILD) --jobs=$(JOBS) $(KCC) \
		> $(CURDIR)/build/kernel-build.log 2>&1 || \
		{ tail -40 $(CURDIR)/build/kernel-build.log; exit 1; }
	@$(HARNESS)/mkinitramfs.sh $(INITRAMFS)

check: build
	@INJECT=$(INJECT) $(HARNESS)/check.sh $(TREE) $(KBUILD) $(INITRAMFS)

run: build
	@$(HARNESS)/boot.sh $(KERNEL) $(INITRAMFS) intel-strict run build/logs/run

bench: tree
	@$(HARNESS)/bench.py --jobs=$(JOBS) $(BENCH_ARGS)

series: deps
	@$(HARNESS)/dma_iova_tree.py series

lint: series
	@$(HARNESS)/lint.sh $(TREE) $(KBUILD)

clean:
	rm -rf build out
