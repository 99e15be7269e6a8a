# SPDX-License-Identifier: GPL-2.0
#
# The DMA IOVA series on Debian's linux-source-6.12: assemble, build,
# test and export it.  "make help" lists the targets.

HARNESS := tools/testing/dma-iova
TREE := build/linux
KBUILD := $(CURDIR)/build/kernel
INITRAMFS := build/initramfs.cpio
# INJECT=1 adds harness.config (fault injection) to the x86_64 kernel,
# for the inject setup.  It is off by default: CONFIG_FAULT_INJECTION
# adds a field to struct task_struct, so turning it on rebuilds the
# whole kernel once.
export INJECT
export JOBS ?= $(shell nproc)

# ccache hashes the working directory and absolute paths unless told
# otherwise; with these, a clone in another folder hits the same cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
# The test kernel (KASAN, UBSAN, lockdep) is about 5,000 objects, and
# "make lint" compiles variants of them per patch: ccache's default 5 GB
# would evict the tip's objects and make the next build start cold.
export CCACHE_MAXSIZE ?= 20G
# matrix.py decides on ccache when it builds, after deps.sh has installed
# it: a first build on a fresh machine must not go without it and the
# next redo all.

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
	@echo '  BUILD   the x86_64 test kernel$(if $(INJECT), with fault injection) -> build/kernel'
	@$(HARNESS)/matrix.py build x86_64
	@$(HARNESS)/mkinitramfs.sh $(INITRAMFS)

check: build
	@$(HARNESS)/check.sh $(TREE)

run: build
	@$(HARNESS)/boot.sh $(INITRAMFS) intel-strict run build/logs/run

bench: tree
	@$(HARNESS)/bench.py --jobs=$(JOBS) $(BENCH_ARGS)

series: deps
	@$(HARNESS)/dma_iova_tree.py series

lint: series
	@$(HARNESS)/lint.sh $(TREE) $(KBUILD)

clean:
	rm -rf build out
