/*
 * pnv_iommu.h - C interface of pnv-iommu's OPAL-style DMA-window calls.
 *
 * Link with libpnv_iommu_capi.a (crate pnv-iommu-capi). Every call returns an
 * OPAL code: 0 on success, a negative OPAL_* value on error. Arguments are
 * checked before any register is written; bad input changes nothing.
 */
#ifndef PNV_IOMMU_H
#define PNV_IOMMU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OPAL return codes. */
#define PNV_OPAL_SUCCESS          0
#define PNV_OPAL_PARAMETER       -1
#define PNV_OPAL_BUSY            -2
#define PNV_OPAL_PARTIAL         -3
#define PNV_OPAL_CONSTRAINED     -4
#define PNV_OPAL_CLOSED          -5
#define PNV_OPAL_HARDWARE        -6
#define PNV_OPAL_UNSUPPORTED     -7
#define PNV_OPAL_PERMISSION      -8
#define PNV_OPAL_NO_MEM          -9
#define PNV_OPAL_RESOURCE        -10
#define PNV_OPAL_INTERNAL_ERROR  -11
#define PNV_OPAL_HARDWARE_FROZEN -13
#define PNV_OPAL_WRONG_STATE     -14

/* tce_kill kinds. */
#define PNV_OPAL_TCE_KILL_PAGES 0
#define PNV_OPAL_TCE_KILL_PE    1
#define PNV_OPAL_TCE_KILL_ALL   2

/* eeh_freeze_status states; eeh_freeze_clear/set options. */
#define PNV_OPAL_EEH_STOPPED_NOT_FROZEN      0
#define PNV_OPAL_EEH_STOPPED_MMIO_FREEZE     1
#define PNV_OPAL_EEH_STOPPED_DMA_FREEZE      2
#define PNV_OPAL_EEH_STOPPED_MMIO_DMA_FREEZE 3
#define PNV_OPAL_EEH_ACTION_MMIO 1
#define PNV_OPAL_EEH_ACTION_DMA  2
#define PNV_OPAL_EEH_ACTION_ALL  3

/* set_pe actions; pci_reset scope and states. */
#define PNV_OPAL_UNMAP_PE 0
#define PNV_OPAL_MAP_PE   1
#define PNV_OPAL_RESET_PCI_IODA_TABLE 6
#define PNV_OPAL_DEASSERT_RESET 0
#define PNV_OPAL_ASSERT_RESET   1

/* Window n of a PE has window_id = pe * 2 + n; table_size is one level's
 * size in bytes (power of two >= 4 KiB, 0 disables the window); levels
 * 1..5; page_size 4K, 64K, 2M or 1G. */
int64_t pnv_opal_map_pe_dma_window(uint64_t phb_id, uint64_t pe, uint16_t window_id,
				   uint16_t levels, uint64_t table_addr,
				   uint64_t table_size, uint64_t page_size);
/* Untranslated window: start/size 16 MiB aligned, end < 2^50, bit 59 of
 * pci_start equal to window_id & 1; size 0 disables the window. */
int64_t pnv_opal_map_pe_dma_window_real(uint64_t phb_id, uint64_t pe, uint16_t window_id,
					uint64_t pci_start, uint64_t size);
int64_t pnv_opal_tce_kill(uint64_t phb_id, uint32_t kill_type, uint64_t pe,
			  uint32_t tce_size, uint64_t dma_addr, uint32_t npages);
int64_t pnv_opal_set_pe(uint64_t phb_id, uint64_t pe, uint64_t bdfn, uint8_t bus_compare,
			uint8_t dev_compare, uint8_t func_compare, uint8_t action);
int64_t pnv_opal_eeh_freeze_status(uint64_t phb_id, uint64_t pe, uint8_t *freeze_state,
				   uint16_t *pci_error_type);
int64_t pnv_opal_eeh_freeze_clear(uint64_t phb_id, uint64_t pe, uint64_t option);
int64_t pnv_opal_eeh_freeze_set(uint64_t phb_id, uint64_t pe, uint64_t option);
int64_t pnv_opal_pci_reset(uint64_t phb_id, uint8_t scope, uint8_t assert_state);

#if defined(__powerpc64__)
/* Brings up PHB phb_index of POWER9 chip 0 and registers it as phb_id. */
int64_t pnv_iommu_phb4_init(uint64_t phb_id, uint32_t phb_index);
#else
/* Host only: a PHB modelled by the recording fake, for tests. */
int64_t pnv_iommu_host_add_fake_phb(uint64_t phb_id, uint32_t num_pes);
uint64_t pnv_iommu_host_write_count(uint64_t phb_id);
uint64_t pnv_iommu_host_tve(uint64_t phb_id, uint64_t pe, uint32_t n);
#endif

#ifdef __cplusplus
}
#endif

#endif /* PNV_IOMMU_H */
