// SPDX-License-Identifier: GPL-2.0
/*
 * premap: io_uring registered buffers on an O_DIRECT block device, checked
 * byte for byte while the buffers are replaced and registered anew.
 *
 * Usage: premap DEVICE IOS SEED [churn]
 *
 * Eight buffers are registered with io_uring (IORING_REGISTER_BUFFERS),
 * each of another layout: 1 MiB page aligned, 1 MiB from 512 bytes into
 * a page, 300.5 KiB, 64 KiB, 4.5 KiB from 3584 bytes into a page (across
 * a page boundary), a 2 MiB huge page (hugetlb if there is one, else
 * MADV_HUGEPAGE), 512 KiB and 128 KiB.  Each slot has two memory
 * regions, A and B, to switch between.  The first 256 MiB of DEVICE
 * (registered as fixed file 0) are cut into 16 lanes with one request in
 * flight each: a WRITE_FIXED of a random range of a random buffer (one in
 * eight ending at its last byte) filled with a pattern of SEED, the lane
 * and the transfer, at a random place of the lane; then a READ_FIXED of
 * that place into a cleared range of a random buffer, compared.  Every
 * 50th completion adds a READ_FIXED that runs 512 bytes past the end of
 * its buffer and must fail with -EFAULT.  With "churn", every 200
 * completions in turn, with requests in flight: one slot is switched to
 * its other region (IORING_REGISTER_BUFFERS_UPDATE), or all buffers are
 * unregistered and registered again.  A kernel that maps the registered
 * buffers for DMA once must follow all of that.
 *
 * Prints which memory the 2 MiB buffers are, one line per failed request
 * or registration and then
 * "premap: N transfers, N KiB, N efault, N churn, N errors"; exits 1 on
 * any error or if fewer than IOS transfers (a write and its read) were
 * done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define SECTOR		512
#define SLOTS		8
#define LANES		16
#define MAX_REQS	64		/* the lanes', then the probes' */
#define ENTRIES		64
#define MAX_LEN		(512 << 10)
#define MAX_AREA	(256ull << 20)
#define HUGE		(2 << 20)
#define HUGE_SLOT	5
#define PROBE_EVERY	50
#define CHURN_EVERY	200
#define TRIES		32

enum { IDLE, WRITE, READ, PROBE };

static const char *const opname[] = { "idle", "write", "read", "probe read" };

/* Length and offset into its first page of each slot's buffer. */
static const struct {
	size_t len, off;
} shape[SLOTS] = {
	{ 1 << 20, 0 },
	{ 1 << 20, 512 },
	{ (300 << 10) + 512, 0 },
	{ 64 << 10, 0 },
	{ 4096 + 512, 3584 },
	{ HUGE, 0 },			/* HUGE_SLOT */
	{ 512 << 10, 0 },
	{ 128 << 10, 0 },
};

static char *mem[SLOTS][2];		/* region A and B of each slot */
static int cur[SLOTS];			/* the one registered */

/* A request: lane L's is req[L], a probe's one of the rest. */
static struct req {
	int op;				/* IDLE unless in flight */
	int slot, region;
	char *ptr;			/* the memory it was submitted with */
	size_t boff, len;
	unsigned long long dev;
	uint64_t tag;			/* of the pattern written */
} req[MAX_REQS];

static int next[LANES];			/* what each lane starts next */
static unsigned long seq[LANES];

static struct {
	int fd;
	unsigned int *sq_head, *sq_tail, *sq_mask;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned int sq_entries, pending, inflight;
} ring;

static uint64_t rng, seed;
static unsigned long ios, started, transfers, efault, churns, errors;
static unsigned long long bytes, area, lane_size, lane_max;
static int stop;

/* xorshift64: the same requests for the same seed, on every machine. */
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/* splitmix64's finaliser: word @i of the pattern of transfer @tag. */
static uint64_t word(uint64_t tag, uint64_t i)
{
	uint64_t z = tag + (i + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ z >> 27) * 0x94d049bb133111ebull;
	return z ^ z >> 31;
}

static void fill(char *p, size_t len, uint64_t tag)
{
	size_t i;

	for (i = 0; i < len; i += sizeof(uint64_t)) {
		uint64_t v = word(tag, i / sizeof(uint64_t));

		memcpy(p + i, &v, sizeof(v));
	}
}

/* The byte offset of the first difference from the pattern, or -1. */
static long long check(const char *p, size_t len, uint64_t tag)
{
	size_t i, k;

	for (i = 0; i < len; i += sizeof(uint64_t)) {
		uint64_t v = word(tag, i / sizeof(uint64_t));

		if (memcmp(p + i, &v, sizeof(v))) {
			for (k = 0; p[i + k] == ((const char *)&v)[k]; k++)
				;
			return i + k;
		}
	}
	return -1;
}

/* @len bytes from @off into a page of fresh memory, faulted in. */
static char *region(size_t len, size_t off)
{
	char *p = mmap(NULL, off + len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p + off;
}

/*
 * 2 MiB in a huge page: hugetlb if the pool has one, else 2 MiB aligned
 * memory that asks for a transparent huge page.  *@tlb says which.
 */
static char *huge(int *tlb)
{
	char *p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	uintptr_t a;

	*tlb = p != MAP_FAILED;
	if (!*tlb) {
		p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			exit(2);
		}
		/* keep the aligned 2 MiB in the middle */
		a = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
		if (a != (uintptr_t)p)
			munmap(p, a - (uintptr_t)p);
		munmap((char *)a + HUGE, (uintptr_t)p + HUGE - a);
		p = (char *)a;
		madvise(p, HUGE, MADV_HUGEPAGE);
	}
	memset(p, 0, HUGE);
	return p;
}

/* io_uring_register(), again when a signal cut it short. */
static int reg(unsigned int op, void *arg, unsigned int nr)
{
	int ret;

	do
		ret = syscall(__NR_io_uring_register, ring.fd, op, arg, nr);
	while (ret < 0 && errno == EINTR);
	return ret;
}

/* Register every slot's current region. */
static int reg_all(void)
{
	struct iovec iov[SLOTS];
	int s;

	for (s = 0; s < SLOTS; s++) {
		iov[s].iov_base = mem[s][cur[s]];
		iov[s].iov_len = shape[s].len;
	}
	return reg(IORING_REGISTER_BUFFERS, iov, SLOTS);
}

/* A ring of ENTRIES SQEs, its SQ and CQ rings mapped. */
static void ring_init(void)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	unsigned int i;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	ring.fd = syscall(__NR_io_uring_setup, ENTRIES, &p);
	if (ring.fd < 0) {
		perror("io_uring_setup");
		exit(2);
	}
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (cq_len > sq_len)
			sq_len = cq_len;
		cq_len = sq_len;
	}
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQ_RING);
	cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, ring.fd,
			  IORING_OFF_CQ_RING);
	ring.sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 ring.fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || ring.sqes == MAP_FAILED) {
		perror("mmap io_uring");
		exit(2);
	}
	ring.sq_head = (unsigned int *)(sq + p.sq_off.head);
	ring.sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	ring.sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	ring.cq_head = (unsigned int *)(cq + p.cq_off.head);
	ring.cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	ring.cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	ring.cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	ring.sq_entries = p.sq_entries;
	/* SQ slot i is always SQE i */
	for (i = 0; i < p.sq_entries; i++)
		((unsigned int *)(sq + p.sq_off.array))[i] = i;
}

/* Submit what is queued; with @wait, wait for a completion as well. */
static void enter(int wait)
{
	int ret;

	if (!ring.pending && !wait)
		return;
	for (;;) {
		ret = syscall(__NR_io_uring_enter, ring.fd, ring.pending,
			      wait ? 1 : 0, wait ? IORING_ENTER_GETEVENTS : 0,
			      NULL, 0);
		if (ret >= 0) {
			ring.pending -= ret;
			if (!ring.pending)
				return;
		} else if (errno != EINTR && errno != EAGAIN) {
			perror("io_uring_enter");
			exit(2);
		}
	}
}

/* Queue request @id as @op: the SQE is the kernel's at the next enter(). */
static void queue(int id, int op)
{
	unsigned int tail = *ring.sq_tail;
	struct req *r = &req[id];
	struct io_uring_sqe *sqe;

	if (tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) ==
	    ring.sq_entries)
		enter(0);
	sqe = &ring.sqes[tail & *ring.sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op == WRITE ? IORING_OP_WRITE_FIXED :
				    IORING_OP_READ_FIXED;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0;
	sqe->off = r->dev;
	sqe->addr = (uintptr_t)r->ptr;
	sqe->len = r->len;
	sqe->buf_index = r->slot;
	sqe->user_data = id;
	r->op = op;
	__atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
	ring.pending++;
	ring.inflight++;
}

/* Take the next CQE into *@cqe; 0 if there is none. */
static int reap(struct io_uring_cqe *cqe)
{
	unsigned int head = *ring.cq_head;

	if (head == __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE))
		return 0;
	*cqe = ring.cqes[head & *ring.cq_mask];
	__atomic_store_n(ring.cq_head, head + 1, __ATOMIC_RELEASE);
	ring.inflight--;
	return 1;
}

/* Whether [@p, @p + @len) holds memory of a request in flight. */
static int busy(const char *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	int i;

	for (i = 0; i < MAX_REQS; i++) {
		uintptr_t b = (uintptr_t)req[i].ptr;

		if (req[i].op != IDLE && a < b + req[i].len && b < a + len)
			return 1;
	}
	return 0;
}

/* A random multiple of 512 from 512 to @max. */
static size_t sectors(size_t max)
{
	return (1 + rnd(max / SECTOR)) * SECTOR;
}

/*
 * Put @r in a random slot's current region: @len bytes (with @len 0, a
 * random length up to lane_max) at a random offset, one time in eight
 * at the very end of the buffer.  0 if the memory is busy or too small.
 */
static int place(struct req *r, size_t len)
{
	int s = rnd(SLOTS);
	size_t size = shape[s].len, max = size, off;

	if (max > lane_max)
		max = lane_max;
	if (len > size)
		return 0;
	if (rnd(8) == 0) {
		if (!len)
			len = sectors(max);
		off = size - len;
	} else if (len) {
		off = rnd((size - len) / SECTOR + 1) * SECTOR;
	} else {
		off = rnd(size / SECTOR) * SECTOR;
		len = sectors(size - off < max ? size - off : max);
	}
	if (busy(mem[s][cur[s]] + off, len))
		return 0;
	r->slot = s;
	r->region = cur[s];
	r->boff = off;
	r->len = len;
	r->ptr = mem[s][cur[s]] + off;
	return 1;
}

/* One line for a failed request, counted. */
static void report(int id, int res, long long bad)
{
	const struct req *r = &req[id];

	errors++;
	printf("premap: %s %d %s, slot %d%c +%zu, %zu bytes at %llu: result %d, first bad byte %lld\n",
	       id < LANES ? "lane" : "probe", id < LANES ? id : id - LANES,
	       opname[r->op], r->slot, 'A' + r->region, r->boff, r->len,
	       r->dev, res, bad);
}

/* Start lane @l's next request if it has one and finds free memory. */
static void start(int l)
{
	struct req *r = &req[l];
	int i;

	if (r->op != IDLE || next[l] == IDLE)
		return;
	if (next[l] == WRITE && (stop || started == ios)) {
		next[l] = IDLE;
		return;
	}
	for (i = 0; i < TRIES; i++)
		if (place(r, next[l] == READ ? r->len : 0))
			break;
	if (i == TRIES)
		return;		/* again after the next completion */
	if (next[l] == WRITE) {
		r->tag = word(word(seed, l), seq[l]++);
		r->dev = l * lane_size +
			 rnd((lane_size - r->len) / SECTOR + 1) * SECTOR;
		fill(r->ptr, r->len, r->tag);
		started++;
	} else {
		memset(r->ptr, 0, r->len);
	}
	queue(l, next[l]);
}

/* The number of lanes with more to do, after starting what can start. */
static int start_all(void)
{
	int l, n = 0;

	for (l = 0; l < LANES; l++) {
		start(l);
		n += next[l] != IDLE;
	}
	return n;
}

/* A READ_FIXED that runs 512 bytes past the end of its buffer. */
static void probe(void)
{
	int id, i, s;
	size_t size, len;
	char *p;

	for (id = LANES; id < MAX_REQS && req[id].op != IDLE; id++)
		;
	if (id == MAX_REQS)
		return;
	for (i = 0; i < TRIES; i++) {
		s = rnd(SLOTS);
		size = shape[s].len;
		len = sectors(size < lane_max ? size : lane_max) + SECTOR;
		p = mem[s][cur[s]] + size + SECTOR - len;
		if (!busy(p, len - SECTOR))
			break;
	}
	if (i == TRIES)
		return;
	req[id].slot = s;
	req[id].region = cur[s];
	req[id].boff = size + SECTOR - len;
	req[id].len = len;
	req[id].ptr = p;
	req[id].dev = rnd((area - len) / SECTOR + 1) * SECTOR;
	queue(id, PROBE);
}

/*
 * In turn: switch one slot to its other region (every other time one a
 * request in flight uses), or unregister all buffers and register them
 * again.  What is queued is submitted first: no request may meet the
 * buffer table of the moment in between.
 */
static void churn(void)
{
	struct io_uring_rsrc_update2 up;
	struct iovec iov;
	int i, k, s = rnd(SLOTS);

	enter(0);
	if (churns++ % 2) {
		if (reg(IORING_UNREGISTER_BUFFERS, NULL, 0) < 0) {
			printf("premap: unregister buffers: %s\n",
			       strerror(errno));
			errors++;
		}
		if (reg_all() < 0) {
			printf("premap: register buffers: %s\n",
			       strerror(errno));
			errors++;
			stop = 1;
		}
		return;
	}
	/* every other time, the slot of a random request in flight */
	for (i = rnd(2) ? 0 : MAX_REQS, k = rnd(MAX_REQS); i < MAX_REQS; i++)
		if (req[(k + i) % MAX_REQS].op != IDLE) {
			s = req[(k + i) % MAX_REQS].slot;
			break;
		}
	iov.iov_base = mem[s][!cur[s]];
	iov.iov_len = shape[s].len;
	memset(&up, 0, sizeof(up));
	up.offset = s;
	up.data = (uintptr_t)&iov;
	up.nr = 1;
	if (reg(IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up)) != 1) {
		printf("premap: update buffer %d: %s\n", s, strerror(errno));
		errors++;
	} else {
		cur[s] ^= 1;
	}
}

/* Check a completion and move its lane on. */
static void complete(const struct io_uring_cqe *cqe)
{
	int id = cqe->user_data, res = cqe->res;
	struct req *r = &req[id];
	long long bad = -1;
	int op = r->op;

	if (op == PROBE) {
		if (res == -EFAULT)
			efault++;
		else
			report(id, res, -1);
		r->op = IDLE;
		return;
	}
	if (res > 0)
		bytes += res;
	if (op == READ && res == (int)r->len)
		bad = check(r->ptr, r->len, r->tag);
	if (res != (int)r->len || bad >= 0)
		report(id, res, bad);
	r->op = IDLE;
	if (op == WRITE && res == (int)r->len) {
		next[id] = READ;
		return;
	}
	transfers++;
	next[id] = WRITE;
}

int main(int argc, char **argv)
{
	unsigned long long size, completions = 0;
	struct io_uring_cqe cqe;
	int fd, tlb[2], l, mix;
	int do_churn = argc == 5 && !strcmp(argv[4], "churn");

	ios = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	if ((argc != 4 && !do_churn) || !ios) {
		fprintf(stderr, "usage: premap DEVICE IOS SEED [churn]\n");
		return 2;
	}
	seed = strtoull(argv[3], NULL, 0);
	rng = seed * 2654435761u + 1;
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		perror(argv[1]);
		return 2;
	}
	area = size < MAX_AREA ? size : MAX_AREA;
	lane_size = area / LANES / SECTOR * SECTOR;
	if (!lane_size) {
		fprintf(stderr, "premap: %s is too small\n", argv[1]);
		return 2;
	}
	lane_max = lane_size < MAX_LEN ? lane_size : MAX_LEN;

	for (l = 0; l < SLOTS; l++) {
		if (l == HUGE_SLOT) {
			mem[l][0] = huge(&tlb[0]);
			mem[l][1] = huge(&tlb[1]);
		} else {
			mem[l][0] = region(shape[l].len, shape[l].off);
			mem[l][1] = region(shape[l].len, shape[l].off);
		}
	}
	mix = tlb[0] + tlb[1];
	printf("premap: 2 MiB buffers: %s\n", mix == 2 ? "hugetlb" :
	       mix ? "hugetlb and MADV_HUGEPAGE" : "MADV_HUGEPAGE");

	ring_init();
	if (reg(IORING_REGISTER_FILES, &fd, 1) < 0 || reg_all() < 0) {
		perror("io_uring_register");
		return 2;
	}
	for (l = 0; l < LANES; l++)
		next[l] = WRITE;

	while (start_all() || ring.inflight) {
		enter(ring.inflight > 0);
		while (reap(&cqe)) {
			complete(&cqe);
			start_all();
			if (++completions % PROBE_EVERY == 0)
				probe();
			if (do_churn && completions % CHURN_EVERY == 0)
				churn();
		}
	}

	if (reg(IORING_UNREGISTER_BUFFERS, NULL, 0) < 0 ||
	    reg(IORING_UNREGISTER_FILES, NULL, 0) < 0) {
		printf("premap: unregister: %s\n", strerror(errno));
		errors++;
	}
	close(ring.fd);
	close(fd);
	printf("premap: %lu transfers, %llu KiB, %lu efault, %lu churn, %lu errors\n",
	       transfers, bytes / 1024, efault, churns, errors);
	return errors || transfers < ios ? 1 : 0;
}
