/*
 * The OPAL C ABI over a PHB3 and a PHB5 (host recording fakes): the same
 * entry points, each generation's answers.
 */
#include <stdio.h>
#include "pnv_iommu.h"
#include "check.h"

int main(void)
{
	const uint64_t p8 = 30, p10 = 31;
	uint64_t before;

	/* PHB3: found through its PBCQ; index 3 does not exist on a POWER8. */
	CHECK(pnv_iommu_phb3_attach(p8, 0, 3), PNV_OPAL_PARAMETER);
	CHECK(pnv_iommu_phb3_attach(p8, 0, 1), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_phb3_attach(p8, 0, 1), PNV_OPAL_PARAMETER);
	CHECK(pnv_iommu_host_write_count(p8), 0);
	/* 16M pages are PHB3's; 2M pages are not. */
	CHECK(pnv_opal_map_pe_dma_window(p8, 1, 2, 1, 0x10000000, 0x1000, 0x1000000), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_tve(p8, 1, 0), 0x000000010000010dull);
	before = pnv_iommu_host_write_count(p8);
	CHECK(pnv_opal_map_pe_dma_window(p8, 1, 3, 1, 0x10000000, 0x1000, 0x200000), PNV_OPAL_PARAMETER);
	/* No OPAL kill on PHB3, as skiboot. */
	CHECK(pnv_opal_tce_kill(p8, PNV_OPAL_TCE_KILL_PE, 1, 0, 0, 0), PNV_OPAL_UNSUPPORTED);
	CHECK(pnv_iommu_host_write_count(p8), before);
	/* PHB3 bypass: page-size field 0 and IBM bit 51. */
	CHECK(pnv_opal_map_pe_dma_window_real(p8, 1, 3, 1ull << 59, 1 << 30), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_tve(p8, 1, 1), 0x401000);
	/* Attached: the owner's tables are not ours. */
	CHECK(pnv_opal_set_pe(p8, 1, 0x100, 7, 1, 1, PNV_OPAL_MAP_PE), PNV_OPAL_UNSUPPORTED);

	/* PHB5: as a PHB4, and the OPAL kill is served. */
	CHECK(pnv_iommu_phb5_attach(p10, 0, 3, 0x000600c3c0300000ull, 512), PNV_OPAL_SUCCESS);
	CHECK(pnv_opal_map_pe_dma_window(p10, 300, 600, 2, 0x200000, 0x200000, 0x200000), PNV_OPAL_SUCCESS);
	CHECK(pnv_iommu_host_tve(p10, 300, 0), 0x0000000002002a0aull);
	CHECK(pnv_opal_map_pe_dma_window(p10, 1, 2, 1, 0x1000000, 0x1000, 0x1000000), PNV_OPAL_PARAMETER);
	CHECK(pnv_opal_tce_kill(p10, PNV_OPAL_TCE_KILL_PE, 300, 0, 0, 0), PNV_OPAL_SUCCESS);

	if (failures) {
		printf("generations_smoke: %d failures\n", failures);
		return 1;
	}
	printf("generations_smoke: ok\n");
	return 0;
}
