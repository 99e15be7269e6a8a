// SPDX-License-Identifier: GPL-2.0
/*
 * vecio: vectored O_DIRECT I/O on a block device, checked byte for byte.
 *
 * Usage: vecio DEVICE MAX_BYTES SEED
 *
 * For every transfer size from 512 bytes to MAX_BYTES (each multiple of
 * 512 up to 16 KiB, then each power of two and 512 bytes either side of
 * it), a few times each: the transfer is cut into 1 to 16 iovecs whose
 * lengths are multiples of 512, placed at 512-byte aligned offsets of a
 * buffer with gaps between them, written with pwritev() at a random
 * 512-byte aligned offset of DEVICE, read back with preadv() into another
 * such layout, and compared.  One transfer in three has its iovecs at
 * 4 KiB boundaries with 4 KiB gaps: the block layer then builds one
 * request whose inner boundaries are 4 KiB aligned and lie inside pages
 * larger than 4 KiB, or inside IOMMU granules larger than 4 KiB.
 *
 * Prints one line per failed transfer and then
 * "vecio: N transfers, N KiB, N errors"; exits 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define SECTOR		512
#define MAX_IOVS	16
#define REPEAT		4

static uint64_t rng;

/* xorshift64: the same layouts for the same seed, on every machine. */
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/*
 * Cut @size bytes into iovecs in @buf (@buf_size bytes): lengths in
 * @unit multiples, each iovec at a @unit aligned offset after a gap of 1
 * to 3 units from the one before.  Returns the number of iovecs.
 */
static int layout(struct iovec *iov, char *buf, size_t buf_size,
		  size_t size, size_t unit)
{
	size_t units = size / unit, pos = rnd(4) * unit;
	int n = 1 + rnd(units < MAX_IOVS ? units : MAX_IOVS);
	int i;

	for (i = 0; i < n; i++) {
		/* at least one unit each, the rest at random */
		size_t left = units - (n - 1 - i);
		size_t len = i == n - 1 ? units : 1 + rnd(left);

		units -= len;
		iov[i].iov_base = buf + pos;
		iov[i].iov_len = len * unit;
		pos += len * unit + (1 + rnd(3)) * unit;
	}
	if (pos > buf_size) {
		fprintf(stderr, "vecio: layout of %zu bytes overflows\n", size);
		exit(2);
	}
	return n;
}

static void fill(const struct iovec *iov, int n, uint64_t tag)
{
	uint64_t off = 0;
	int i;
	size_t j;

	for (i = 0; i < n; i++)
		for (j = 0; j < iov[i].iov_len; j += sizeof(uint64_t), off++) {
			uint64_t v = tag * 0x9e3779b97f4a7c15ull + off;

			memcpy((char *)iov[i].iov_base + j, &v, sizeof(v));
		}
}

/* The byte offset of the first difference, or -1. */
static long long compare(const struct iovec *a, int na,
			 const struct iovec *b, int nb)
{
	size_t ai = 0, bi = 0, ao = 0, bo = 0, done = 0;

	while (ai < (size_t)na && bi < (size_t)nb) {
		size_t len = a[ai].iov_len - ao;

		if (b[bi].iov_len - bo < len)
			len = b[bi].iov_len - bo;
		if (memcmp((char *)a[ai].iov_base + ao,
			   (char *)b[bi].iov_base + bo, len)) {
			size_t k = 0;

			while (((char *)a[ai].iov_base)[ao + k] ==
			       ((char *)b[bi].iov_base)[bo + k])
				k++;
			return done + k;
		}
		done += len;
		ao += len;
		bo += len;
		if (ao == a[ai].iov_len) {
			ai++;
			ao = 0;
		}
		if (bo == b[bi].iov_len) {
			bi++;
			bo = 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct iovec wiov[MAX_IOVS], riov[MAX_IOVS];
	unsigned long transfers = 0, errors = 0;
	unsigned long long kib = 0;
	size_t max, size, buf_size;
	char *wbuf, *rbuf;
	off_t dev_size;
	int fd, rep;

	if (argc != 4) {
		fprintf(stderr, "usage: vecio DEVICE MAX_BYTES SEED\n");
		return 2;
	}
	max = strtoull(argv[2], NULL, 0) / SECTOR * SECTOR;
	rng = strtoull(argv[3], NULL, 0) * 2654435761u + 1;
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || max < SECTOR) {
		perror(argv[1]);
		return 2;
	}
	dev_size = lseek(fd, 0, SEEK_END);
	if (dev_size < (off_t)max) {
		fprintf(stderr, "vecio: %s is smaller than %zu\n", argv[1], max);
		return 2;
	}
	/* room for the transfer, its gaps, and a 4 KiB unit per iovec */
	buf_size = max + 4 * (MAX_IOVS + 1) * 4096;
	wbuf = mmap(NULL, buf_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	rbuf = mmap(NULL, buf_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (wbuf == MAP_FAILED || rbuf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}

	for (size = SECTOR; size <= max;) {
		for (rep = 0; rep < REPEAT; rep++) {
			size_t unit = size % 4096 == 0 && rnd(3) == 0 ?
				      4096 : SECTOR;
			off_t pos = rnd((dev_size - size) / SECTOR + 1) * SECTOR;
			int nw = layout(wiov, wbuf, buf_size, size, unit);
			int nr = layout(riov, rbuf, buf_size, size, unit);
			long long bad = -1;
			ssize_t w, r = -1;
			int err = 0;

			fill(wiov, nw, transfers);
			fill(riov, nr, ~(uint64_t)transfers);
			w = pwritev(fd, wiov, nw, pos);
			if (w < 0)
				err = errno;
			if (w == (ssize_t)size) {
				r = preadv(fd, riov, nr, pos);
				if (r < 0)
					err = errno;
			}
			if (r == (ssize_t)size)
				bad = compare(wiov, nw, riov, nr);
			if (w != (ssize_t)size || r != (ssize_t)size ||
			    bad >= 0) {
				errors++;
				printf("vecio: %zu bytes in %d/%d iovecs of %zu-byte units at %lld: write %zd read %zd (%s), first bad byte %lld\n",
				       size, nw, nr, unit, (long long)pos, w, r,
				       strerror(err), bad);
			}
			transfers++;
			kib += size / 1024;
		}
		if (size < 16384)
			size += SECTOR;
		else if ((size & (size - 1)) == 0)
			size += SECTOR;
		else if (((size + SECTOR) & (size + SECTOR - 1)) == 0)
			size += SECTOR;
		else	/* from a power of two plus 512 to the next one less */
			size = (size - SECTOR) * 2 - SECTOR;
	}
	printf("vecio: %lu transfers, %llu KiB, %lu errors\n", transfers, kib,
	       errors);
	return errors ? 1 : 0;
}
