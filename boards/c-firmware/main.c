/*
 * main.c - a skiboot-like C firmware that links pnv-iommu's C ABI and makes
 * QEMU's edu device do DMA through a TCE table this firmware builds itself,
 * the way Linux builds one before it calls OPAL:
 *
 *   pnv_iommu_phb4_init -> pnv_iommu_pci_enumerate (find edu, BAR0) ->
 *   pnv_opal_set_pe -> one-level TCE table in our memory ->
 *   pnv_opal_map_pe_dma_window -> pnv_opal_tce_kill -> edu DMA both ways.
 *
 * Prints "TEST <name> ... ok|FAILED: <why>" per check and a final
 * "PNV-RESULT: PASS" or "PNV-RESULT: FAIL <why>" line for cargo xtask.
 */
#include "pnv_iommu.h"
#include "rt.h"

#define PHB_ID 0
#define PHB_INDEX 0
#define PE 5

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_IDENT 0x00
#define EDU_IDENT_VALUE 0x010000edu
#define EDU_LIVENESS 0x04
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUFFER 0x40000ull
/* Bytes per transfer: QEMU 7.2's edu aborts on a transfer that ends exactly
 * at the end of its 4 KiB buffer, so stay well inside it. */
#define XFER 0x800

#define PAGE 0x1000ull
#define TCE_R 0x1ull
#define TCE_W 0x2ull

/* One-level table: one 4 KiB level of 512 big-endian TCEs (a 2 MiB window
 * of 4 KiB pages at PCI address 0), aligned to its size as the PHB's walk
 * requires. */
#define TCE_ENTRIES 512
static uint64_t tce_table[TCE_ENTRIES] __attribute__((aligned(TCE_ENTRIES * 8)));

/* DMA pages. No IOVA below equals its page's physical address. */
static unsigned char src_page[PAGE] __attribute__((aligned(PAGE)));
static unsigned char dst_page[PAGE] __attribute__((aligned(PAGE)));
static unsigned char ro_page[PAGE] __attribute__((aligned(PAGE)));
#define IOVA_SRC 0x5000ull /* -> src_page, R */
#define IOVA_DST 0x9000ull /* -> dst_page, R|W */
#define IOVA_RO 0xa000ull  /* -> ro_page, R only: device writes must fault */

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* real mode: addresses are physical */
}

static void set_tce(uint64_t iova, const void *page, uint64_t perm)
{
	/* The CPU is big-endian, so a native store is the big-endian TCE. */
	tce_table[iova / PAGE] = (phys(page) & ~(PAGE - 1)) | perm;
}

static int check_code(const char *name, int64_t got, int64_t want)
{
	if (got == want) {
		test_result(name, 1, "");
		return 1;
	}
	con_printf("PNV: %s returned %lld, expected %lld\n", name, (long long)got,
		   (long long)want);
	test_result(name, 0, "unexpected OPAL code");
	return 0;
}

/* Runs one edu transfer and waits (at most 2 s of timebase) for it. */
static int edu_dma(uint64_t bar0, uint64_t src, uint64_t dst, uint64_t len, uint64_t dir)
{
	full_sync();
	ci_write64(bar0 + EDU_DMA_SRC, src);
	ci_write64(bar0 + EDU_DMA_DST, dst);
	ci_write64(bar0 + EDU_DMA_COUNT, len);
	ci_write64(bar0 + EDU_DMA_CMD, EDU_DMA_START | dir);
	uint64_t start = timebase();
	while (ci_read64(bar0 + EDU_DMA_CMD) & EDU_DMA_START)
		if (timebase() - start > 2 * TIMEBASE_HZ)
			return 0;
	full_sync();
	return 1;
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

/* Offset of the first byte of p[0..n) that is not `want`, or -1. */
static long first_not(const unsigned char *p, size_t n, unsigned char want)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != want)
			return (long)i;
	return -1;
}

static int find_edu(struct pnv_iommu_pci_function *edu)
{
	struct pnv_iommu_pci_function fns[8];
	uint64_t count = 0;
	int64_t rc = pnv_iommu_pci_enumerate(PHB_ID, fns, 8, &count);

	if (!check_code("c_pci_enumerate", rc, PNV_OPAL_SUCCESS))
		return 0;
	for (uint64_t i = 0; i < count && i < 8; i++) {
		con_printf("PNV: PHB%d %02x:%02x.%x vendor %x device %x BAR0 pci 0x%llx cpu 0x%llx size 0x%llx\n",
			   PHB_INDEX, fns[i].bdfn >> 8, (fns[i].bdfn >> 3) & 0x1f,
			   fns[i].bdfn & 7, fns[i].vendor, fns[i].device,
			   (unsigned long long)fns[i].bar0_pci_addr,
			   (unsigned long long)fns[i].bar0_cpu_addr,
			   (unsigned long long)fns[i].bar0_size);
		if (fns[i].vendor == EDU_VENDOR && fns[i].device == EDU_DEVICE &&
		    fns[i].bar0_valid) {
			*edu = fns[i];
			test_result("c_edu_found", 1, "");
			return 1;
		}
	}
	test_result("c_edu_found", 0, "no edu with a BAR0 behind PHB0");
	return 0;
}

/* Bad input gets PNV_OPAL_PARAMETER (and, per the header, writes nothing). */
static void bad_arguments(void)
{
	uint64_t count;

	/* levels 0 (valid is 1..5) */
	check_code("c_bad_levels_is_parameter",
		   pnv_opal_map_pe_dma_window(PHB_ID, PE, PE * 2, 0, phys(tce_table),
					      sizeof tce_table, PAGE),
		   PNV_OPAL_PARAMETER);
	/* a table not aligned to its size */
	check_code("c_misaligned_table_is_parameter",
		   pnv_opal_map_pe_dma_window(PHB_ID, PE, PE * 2, 1, phys(tce_table) + 8,
					      sizeof tce_table, PAGE),
		   PNV_OPAL_PARAMETER);
	check_code("c_unknown_phb_is_parameter",
		   pnv_opal_set_pe(99, PE, 0x100, 7, 1, 1, PNV_OPAL_MAP_PE),
		   PNV_OPAL_PARAMETER);
	check_code("c_enumerate_null_count_is_parameter",
		   pnv_iommu_pci_enumerate(PHB_ID, NULL, 0, NULL), PNV_OPAL_PARAMETER);
	check_code("c_enumerate_unknown_phb_is_parameter",
		   pnv_iommu_pci_enumerate(42, NULL, 0, &count), PNV_OPAL_PARAMETER);
	check_code("c_second_init_is_parameter", pnv_iommu_phb4_init(1, PHB_INDEX),
		   PNV_OPAL_PARAMETER);
}

static void dma_checks(uint64_t bar0)
{
	for (size_t i = 0; i < PAGE; i++)
		src_page[i] = pattern(i);
	memset(dst_page, 0xee, PAGE);
	memset(ro_page, 0x5a, PAGE);

	/* RAM -> device: 2 KiB from IOVA_SRC + 0x100 into the edu buffer. */
	if (!edu_dma(bar0, IOVA_SRC + 0x100, EDU_BUFFER, XFER, 0)) {
		test_result("c_dma_ram_to_device", 0, "edu did not finish");
		return;
	}
	test_result("c_dma_ram_to_device", 1, "");

	/* Device -> RAM: the buffer to IOVA_DST + 0x80. */
	if (!edu_dma(bar0, EDU_BUFFER, IOVA_DST + 0x80, XFER, EDU_DMA_TO_RAM)) {
		test_result("c_dma_device_to_ram", 0, "edu did not finish");
		return;
	}
	test_result("c_dma_device_to_ram", 1, "");
	int ok = 1;
	for (size_t i = 0; i < XFER; i++) {
		if (dst_page[0x80 + i] != pattern(0x100 + i)) {
			con_printf("PNV: byte 0x%x of the copy is 0x%x, expected 0x%x\n",
				   (unsigned)i, dst_page[0x80 + i], pattern(0x100 + i));
			ok = 0;
			break;
		}
	}
	test_result("c_dma_round_trip_bytes", ok, "bytes differ");
	ok = first_not(dst_page, 0x80, 0xee) < 0 &&
	     first_not(dst_page + 0x80 + XFER, PAGE - 0x80 - XFER, 0xee) < 0;
	test_result("c_dma_writes_nothing_outside", ok, "bytes outside the transfer changed");

	/* A device write through a read-only TCE is refused: nothing lands. */
	ok = edu_dma(bar0, EDU_BUFFER, IOVA_RO, XFER, EDU_DMA_TO_RAM) &&
	     first_not(ro_page, PAGE, 0x5a) < 0;
	test_result("c_dma_read_only_tce_refuses_write", ok,
		    "a device write landed through a read-only TCE");
}

/* The boot-argument block of start.S: magic, then the scenario name. This
 * firmware has one scenario and only reports the name it was given. */
extern const char boot_args[0xe0];

void c_main(uint64_t fdt) __attribute__((noreturn));

void c_main(uint64_t fdt)
{
	struct pnv_iommu_pci_function edu;

	con_printf("PNV: c-firmware (C, linking libpnv_iommu_capi.a), device tree at 0x%llx\n",
		   (unsigned long long)fdt);
	con_printf("PNV: scenario %s\n", boot_args[8] ? &boot_args[8] : "(none)");
	if (!check_code("c_phb4_init", pnv_iommu_phb4_init(PHB_ID, PHB_INDEX),
			PNV_OPAL_SUCCESS))
		fail_and_halt("PHB0 bring-up failed");
	con_printf("PNV: heap used by the library after bring-up: 0x%llx bytes\n",
		   (unsigned long long)heap_used());
	bad_arguments();
	if (!find_edu(&edu))
		fail_and_halt("no edu behind PHB0");
	uint64_t bar0 = edu.bar0_cpu_addr;
	uint32_t ident = ci_read32(bar0 + EDU_IDENT);
	con_printf("PNV: edu ident 0x%x\n", ident);
	test_result("c_edu_ident", ident == EDU_IDENT_VALUE, "ident is not 0x010000ed");
	ci_write32(bar0 + EDU_LIVENESS, 0x12345678u);
	test_result("c_edu_liveness", ci_read32(bar0 + EDU_LIVENESS) == ~0x12345678u,
		    "liveness did not read back inverted");

	check_code("c_set_pe", pnv_opal_set_pe(PHB_ID, PE, edu.bdfn, 7, 1, 1, PNV_OPAL_MAP_PE),
		   PNV_OPAL_SUCCESS);

	memset(tce_table, 0, sizeof tce_table);
	set_tce(IOVA_SRC, src_page, TCE_R);
	set_tce(IOVA_DST, dst_page, TCE_R | TCE_W);
	set_tce(IOVA_RO, ro_page, TCE_R);
	full_sync();
	check_code("c_map_pe_dma_window",
		   pnv_opal_map_pe_dma_window(PHB_ID, PE, PE * 2, 1, phys(tce_table),
					      sizeof tce_table, PAGE),
		   PNV_OPAL_SUCCESS);
	check_code("c_tce_kill", pnv_opal_tce_kill(PHB_ID, PNV_OPAL_TCE_KILL_PE, PE, 0, 0, 0),
		   PNV_OPAL_SUCCESS);

	dma_checks(bar0);

	if (tests_failed()) {
		con_printf("PNV-RESULT: FAIL %d checks failed, first %s\n", tests_failed(),
			   first_failure());
		halt();
	}
	con_puts("PNV-RESULT: PASS\n");
	halt();
}
