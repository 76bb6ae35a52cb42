/*
 * rt.h - the C test firmware's run-time: console, cache-inhibited MMIO,
 * timebase, and the TEST/PNV-RESULT lines cargo xtask reads.
 */
#ifndef CFW_RT_H
#define CFW_RT_H

#include <stddef.h>
#include <stdint.h>

/* QEMU powernv's timebase frequency. */
#define TIMEBASE_HZ 512000000ull

/* Cache-inhibited accesses (real mode; a cacheable access to MMIO would
 * checkstop a real machine). Big-endian, as the instructions are. */
static inline uint8_t ci_read8(uint64_t addr)
{
	uint8_t v;
	__asm__ volatile("lbzcix %0, 0, %1" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void ci_write8(uint64_t addr, uint8_t v)
{
	__asm__ volatile("stbcix %0, 0, %1" : : "r"(v), "r"(addr) : "memory");
}

static inline uint32_t ci_read32(uint64_t addr)
{
	uint32_t v;
	__asm__ volatile("sync; lwzcix %0, 0, %1" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void ci_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("sync; stwcix %0, 0, %1" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t ci_read64(uint64_t addr)
{
	uint64_t v;
	__asm__ volatile("sync; ldcix %0, 0, %1" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void ci_write64(uint64_t addr, uint64_t v)
{
	__asm__ volatile("sync; stdcix %0, 0, %1" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t timebase(void)
{
	uint64_t tb;
	__asm__ volatile("mfspr %0, 268" : "=r"(tb));
	return tb;
}

/* Full barrier: CPU stores to RAM are visible before a device is told to
 * read them, and device writes are seen after it reports completion. */
static inline void full_sync(void)
{
	__asm__ volatile("sync" : : : "memory");
}

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n);

/* Console: "\n" is sent as "\r\n". Formats: %s %c %d %u %x (with l or ll and
 * a zero-padded width such as %02x), %p, %%. */
void con_puts(const char *s);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One check: prints "TEST <name> ... ok" or "TEST <name> ... FAILED: <why>"
 * and counts failures. */
void test_result(const char *name, int ok, const char *why);
/* Number of failed checks so far and the first failure's name. */
int tests_failed(void);
const char *first_failure(void);

/* Prints "PNV-RESULT: FAIL <why>" and halts. */
void fail_and_halt(const char *why) __attribute__((noreturn));
void halt(void) __attribute__((noreturn));

/* Bytes handed out by the pnv_iommu_alloc hook so far. */
uint64_t heap_used(void);

#endif /* CFW_RT_H */
