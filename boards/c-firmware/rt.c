/*
 * rt.c - run-time of the C test firmware: the memory functions the Rust
 * static library and this firmware call, the console, the hooks
 * pnv_iommu.h asks the firmware for (allocation, free, abort), and the
 * exception report.
 */
#include <stdarg.h>
#include "pnv_iommu.h"
#include "rt.h"

/* ---- memory functions (the static library leaves them to the firmware) */

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((uintptr_t)d | (uintptr_t)s | n) & 7) == 0) {
		uint64_t *d8 = dst;
		const uint64_t *s8 = src;
		for (size_t i = 0; i < n / 8; i++)
			d8[i] = s8[i];
		return dst;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (c == 0 && (((uintptr_t)d | n) & 7) == 0) {
		uint64_t *d8 = dst;
		for (size_t i = 0; i < n / 8; i++)
			d8[i] = 0;
		return dst;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

int bcmp(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

/* ---- console: the 16550 on the LPC bus of chip 0 (fixed for this test
 * firmware; the Rust firmware finds it in the device tree) */

#define UART_BASE 0x00060300d00103f8ull
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_POLL_LIMIT 1000000

static void con_putc(char c)
{
	if (c == '\n')
		con_putc('\r');
	for (int i = 0; i < UART_POLL_LIMIT; i++)
		if (ci_read8(UART_BASE + UART_LSR) & UART_LSR_THRE)
			break;
	ci_write8(UART_BASE, (uint8_t)c);
}

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

/* v in base 10 or 16, zero-padded to at least `width` digits (at most 24). */
static void put_unsigned(unsigned long long v, unsigned base, int width)
{
	char buf[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n < width && n < (int)sizeof buf)
		buf[n++] = '0';
	while (n)
		con_putc(buf[--n]);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			con_putc(*fmt);
			continue;
		}
		int longs = 0, width = 0;
		if (fmt[1] == '0')
			fmt++; /* only zero padding is supported */
		while (fmt[1] >= '1' && fmt[1] <= '9' && width < 10)
			width = width * 10 + (*++fmt - '0');
		while (*++fmt == 'l')
			longs++;
		unsigned long long u;
		long long s;
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			con_puts(str ? str : "(null)");
			break;
		}
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case 'd':
			s = longs ? va_arg(ap, long long) : va_arg(ap, int);
			if (s < 0) {
				con_putc('-');
				u = 0ull - (unsigned long long)s;
			} else {
				u = (unsigned long long)s;
			}
			put_unsigned(u, 10, width);
			break;
		case 'u':
		case 'x':
			u = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
			put_unsigned(u, *fmt == 'u' ? 10 : 16, width);
			break;
		case 'p':
			con_puts("0x");
			put_unsigned((uintptr_t)va_arg(ap, void *), 16, 0);
			break;
		case '%':
			con_putc('%');
			break;
		default: /* unknown conversion or end of string */
			con_putc('?');
			if (!*fmt)
				fmt--;
			break;
		}
	}
	va_end(ap);
}

/* ---- check tally and verdict */

static int failures;
static const char *first_failed;

void test_result(const char *name, int ok, const char *why)
{
	if (ok) {
		con_printf("TEST %s ... ok\n", name);
		return;
	}
	con_printf("TEST %s ... FAILED: %s\n", name, why);
	if (!failures++)
		first_failed = name;
}

int tests_failed(void)
{
	return failures;
}

const char *first_failure(void)
{
	return first_failed;
}

void halt(void)
{
	for (;;)
		__asm__ volatile("or 1, 1, 1" ::: "memory"); /* low priority */
}

void fail_and_halt(const char *why)
{
	con_printf("PNV-RESULT: FAIL %s\n", why);
	halt();
}

/* ---- hooks the static library calls (pnv_iommu.h) */

/* Bump heap for the library's allocations: 32..64 MiB, clear of the image
 * (below 16 MiB) and QEMU's device tree (16..17 MiB). Only the most recent
 * allocation is given back on free; the library allocates its PHB tables
 * once at bring-up. */
#define HEAP_START 0x02000000ull
#define HEAP_END 0x04000000ull

static uint64_t heap_next = HEAP_START;
static uint64_t heap_last; /* start of the most recent allocation */

void *pnv_iommu_alloc(size_t size, size_t align)
{
	if (align == 0 || (align & (align - 1)) != 0)
		return NULL;
	uint64_t start = (heap_next + (align - 1)) & ~(uint64_t)(align - 1);
	if (start < heap_next || start > HEAP_END || size > HEAP_END - start)
		return NULL;
	heap_last = start;
	heap_next = start + size;
	return (void *)(uintptr_t)start;
}

void pnv_iommu_free(void *p, size_t size, size_t align)
{
	(void)align;
	if ((uint64_t)(uintptr_t)p == heap_last && heap_last + size == heap_next)
		heap_next = heap_last;
}

void pnv_iommu_abort(const char *msg, size_t len)
{
	con_puts("PNV: pnv-iommu abort: ");
	for (size_t i = 0; i < len; i++)
		con_putc(msg[i]);
	con_puts("\nPNV-RESULT: FAIL pnv-iommu abort\n");
	halt();
}

uint64_t heap_used(void)
{
	return heap_next - HEAP_START;
}

/* ---- exceptions (start.S branches here from every vector) */

void c_exception(uint64_t vector, uint64_t srr0, uint64_t srr1, uint64_t hsrr0,
		 uint64_t hsrr1) __attribute__((noreturn));

void c_exception(uint64_t vector, uint64_t srr0, uint64_t srr1, uint64_t hsrr0,
		 uint64_t hsrr1)
{
	con_printf("PNV: exception 0x%llx SRR0 %llx SRR1 %llx HSRR0 %llx HSRR1 %llx\n",
		   (unsigned long long)vector, (unsigned long long)srr0,
		   (unsigned long long)srr1, (unsigned long long)hsrr0,
		   (unsigned long long)hsrr1);
	con_printf("PNV-RESULT: FAIL exception 0x%llx\n", (unsigned long long)vector);
	halt();
}
