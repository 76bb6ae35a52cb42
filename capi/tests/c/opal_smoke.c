/* Calls the OPAL C ABI against a host fake PHB and checks return codes. */
#include <stdio.h>
#include "pnv_iommu.h"

static int failures;

#define CHECK(expr, want)                                                    \
	do {                                                                 \
		long long got_ = (long long)(expr);                          \
		if (got_ != (long long)(want)) {                             \
			printf("FAIL %s = %lld, want %lld\n", #expr, got_,   \
			       (long long)(want));                           \
			failures++;                                          \
		}                                                            \
	} while (0)

int main(void)
{
	const uint64_t phb = 7;
	uint8_t state = 0xff;
	uint16_t err = 0xffff;
	struct pnv_iommu_pci_function fns[2];
	uint64_t count = 0xabcd;

	CHECK(pnv_iommu_host_add_fake_phb(phb, 256), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_add_fake_phb(phb, 256), PNV_OPAL_PARAMETER);

	/* Bad input: its code, and no register written. */
	CHECK(pnv_opal_map_pe_dma_window(99, 1, 2, 1, 0x10000000, 0x1000, 0x1000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window(phb, 256, 512, 1, 0x10000000, 0x1000, 0x1000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window(phb, 1, 4, 1, 0x10000000, 0x1000, 0x1000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window(phb, 1, 2, 6, 0x10000000, 0x1000, 0x1000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window(phb, 1, 2, 1, 0x10000000, 0x3000, 0x1000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window(phb, 1, 2, 1, 0x10000000, 0x1000, 0x2000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window(phb, 1, 2, 1, 0x10001000, 0x2000, 0x1000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window_real(phb, 1, 2, 1ull << 59, 1 << 24), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_map_pe_dma_window_real(phb, 1, 2, 0, 1ull << 50), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_tce_kill(phb, 3, 0, 0, 0, 0), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_set_pe(phb, 1, 0x100, 8, 1, 1, PNV_OPAL_MAP_PE), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_eeh_freeze_clear(phb, 1, 4), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_pci_reset(phb, 1, PNV_OPAL_ASSERT_RESET), PNV_OPAL_UNSUPPORTED);
	CHECK(pnv_iommu_pci_enumerate(phb, NULL, 0, NULL), PNV_OPAL_PARAMETER);
	CHECK(pnv_iommu_pci_enumerate(99, fns, 2, &count), PNV_OPAL_PARAMETER);
	CHECK(pnv_iommu_pci_enumerate(phb, NULL, 1, &count), PNV_OPAL_PARAMETER);
	CHECK(pnv_iommu_pci_enumerate(phb, fns, UINT64_MAX, &count), PNV_OPAL_PARAMETER);
	CHECK(count, 0xabcd);
	CHECK(pnv_iommu_host_write_count(phb), 0);

	/* Valid calls. */
	CHECK(pnv_opal_map_pe_dma_window(phb, 1, 3, 3, 0x23450000, 0x10000, 0x10000), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_tve(phb, 1, 1), 0x0000000234504505ull);
	CHECK(pnv_opal_map_pe_dma_window_real(phb, 1, 2, 0, 1 << 30), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_tve(phb, 1, 0), 0x401080);
	CHECK(pnv_opal_set_pe(phb, 1, 0x100, 7, 1, 1, PNV_OPAL_MAP_PE), PNV_OPAL_SUCCESS);
	CHECK(pnv_opal_tce_kill(phb, PNV_OPAL_TCE_KILL_PE, 1, 0, 0, 0), PNV_OPAL_SUCCESS);
	CHECK(pnv_opal_eeh_freeze_set(phb, 1, PNV_OPAL_EEH_ACTION_DMA), PNV_OPAL_SUCCESS);
	CHECK(pnv_opal_eeh_freeze_status(phb, 1, &state, &err), PNV_OPAL_SUCCESS);
	CHECK(state, PNV_OPAL_EEH_STOPPED_DMA_FREEZE);
	CHECK(pnv_opal_eeh_freeze_clear(phb, 1, PNV_OPAL_EEH_ACTION_ALL), PNV_OPAL_SUCCESS);
	CHECK(pnv_opal_pci_reset(phb, PNV_OPAL_RESET_PCI_IODA_TABLE, PNV_OPAL_ASSERT_RESET), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_tve(phb, 1, 1), 0);

	/* Enumeration: the fake's edu behind the root port, BAR0 (1 MiB) at the
	 * bottom of PHB0's M32 window. */
	CHECK(pnv_iommu_pci_enumerate(phb, NULL, 0, &count), PNV_OPAL_PARTIAL);
	CHECK(count, 1);
	CHECK(pnv_iommu_pci_enumerate(phb, fns, 2, &count), PNV_OPAL_SUCCESS);
	CHECK(count, 1);
	CHECK(fns[0].bdfn, 0x100);
	CHECK(fns[0].vendor, 0x1234);
	CHECK(fns[0].device, 0x11e8);
	CHECK(fns[0].bar0_valid, 1);
	CHECK(fns[0].bar0_pci_addr, 0x80000000ull);
	CHECK(fns[0].bar0_cpu_addr, 0x600c000000000ull);
	CHECK(fns[0].bar0_size, 1 << 20);

	/* A PHB another firmware brought up (chip 1, PHB 3): attaching writes
	 * nothing, the window and kill calls work, the table calls are
	 * unsupported. */
	{
		const uint64_t at = 9;
		const uint64_t regs = 0x600c3c0000000ull + (1ull << 42) + 3 * 0x100000;
		CHECK(pnv_iommu_phb4_attach(at, 1, 3, regs, 0), PNV_OPAL_PARAMETER);
		CHECK(pnv_iommu_phb4_attach(at, 1, 3, regs + 0x1000, 256), PNV_OPAL_PARAMETER);
		CHECK(pnv_iommu_phb4_attach(phb, 1, 3, regs, 256), PNV_OPAL_PARAMETER);
		CHECK(pnv_iommu_phb4_attach(at, 1, 3, regs, 256), PNV_OPAL_SUCCESS);
		CHECK(pnv_iommu_phb4_attach(at, 1, 3, regs, 256), PNV_OPAL_PARAMETER);
		CHECK(pnv_iommu_phb4_attach(at + 1, 1, 3, regs, 256), PNV_OPAL_PARAMETER);
		CHECK(pnv_iommu_host_write_count(at), 0);
		CHECK(pnv_opal_set_pe(at, 1, 0x100, 7, 1, 1, PNV_OPAL_MAP_PE), PNV_OPAL_UNSUPPORTED);
		CHECK(pnv_opal_eeh_freeze_set(at, 1, PNV_OPAL_EEH_ACTION_DMA), PNV_OPAL_UNSUPPORTED);
		CHECK(pnv_iommu_pci_enumerate(at, fns, 2, &count), PNV_OPAL_UNSUPPORTED);
		CHECK(pnv_iommu_host_write_count(at), 0);
		CHECK(pnv_opal_map_pe_dma_window(at, 1, 3, 3, 0x23450000, 0x10000, 0x10000), PNV_OPAL_SUCCESS);
		CHECK(pnv_iommu_host_tve(at, 1, 1), 0x0000000234504505ull);
		/* IODA_ADDR, IODA_DATA0. */
		CHECK(pnv_iommu_host_write_count(at), 2);
		CHECK(pnv_opal_tce_kill(at, PNV_OPAL_TCE_KILL_PE, 1, 0, 0, 0), PNV_OPAL_SUCCESS);
		/* TCE_KILL, DMA_READ_WRITE_SYNC. */
		CHECK(pnv_iommu_host_write_count(at), 4);
		CHECK(pnv_opal_map_pe_dma_window_real(at, 1, 2, 0, 1 << 30), PNV_OPAL_SUCCESS);
		CHECK(pnv_iommu_host_tve(at, 1, 0), 0x401080);
		CHECK(pnv_iommu_host_write_count(at), 6);
		/* The TVE values, for a firmware that keeps its own cache. */
		{
			uint64_t tve = 0;
			CHECK(pnv_iommu_phb_tve(at, 3, &tve), PNV_OPAL_SUCCESS);
			CHECK(tve, 0x0000000234504505ull);
			CHECK(pnv_iommu_phb_tve(at, 2, &tve), PNV_OPAL_SUCCESS);
			CHECK(tve, 0x401080);
			tve = 0xdead;
			CHECK(pnv_iommu_phb_tve(at + 5, 3, &tve), PNV_OPAL_PARAMETER);
			CHECK(pnv_iommu_phb_tve(at, 512, &tve), PNV_OPAL_PARAMETER);
			CHECK(pnv_iommu_phb_tve(at, 3, NULL), PNV_OPAL_PARAMETER);
			CHECK(tve, 0xdead);
			CHECK(pnv_iommu_host_write_count(at), 6);
		}
	}

	if (failures) {
		printf("opal_smoke: %d failures\n", failures);
		return 1;
	}
	printf("opal_smoke: ok\n");
	return 0;
}
