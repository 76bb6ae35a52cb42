/*
 * pnv_iommu.h - C interface of pnv-iommu's OPAL-style DMA-window calls.
 *
 * Link with libpnv_iommu_capi.a (crate pnv-iommu-capi). Every call returns an
 * OPAL code: 0 on success, a negative OPAL_* value on error. Arguments are
 * checked before any register is written; bad input changes nothing.
 *
 * On the POWER target (powerpc64, ELFv2 big-endian; built with
 * `cargo build -p pnv-iommu-capi --target powerpc64-unknown-linux-musl
 * --release`) the library has no C library or Rust std underneath: the
 * firmware that links it provides
 *   - the three hooks declared below (pnv_iommu_alloc, pnv_iommu_free,
 *     pnv_iommu_abort), and
 *   - memcpy, memmove, memset, memcmp and bcmp.
 * The library itself defines _Unwind_Resume and rust_eh_personality
 * (referenced by Rust's prebuilt core library, never called); the firmware
 * must not define them. Calls are serialised by a spin lock and run in the
 * caller's (hypervisor real mode) context; they must not be made from an
 * exception taken inside another call. The host build links Rust's std
 * and needs none of this.
 *
 * Linking into skiboot (boards/skiboot is the worked example):
 *   - build skiboot big-endian ELFv2 (ELF_ABI_v2=1); its default ELFv1
 *     output refuses this ELFv2 archive;
 *   - build the library without FP/VMX/VSX (RUSTFLAGS="-C target-cpu=pwr8
 *     -C target-feature=-altivec,-vsx,-hard-float"): OPAL calls run with
 *     MSR[FP|VEC|VSX] off, and a pwr9 build uses VSX in its register
 *     accessors ("VSX unavailable" inside the call);
 *   - skiboot's libc has memcpy, memmove, memset and memcmp but no bcmp:
 *     the host defines it (bcmp may return memcmp's value);
 *   - skiboot compiles with r13-r16 fixed (r13-r15 belong to the OS, r16 is
 *     skiboot's per-CPU pointer); the library, like any ELFv2 code, uses
 *     r14-r16 as callee-saved registers and may hold its own values there
 *     when it calls a hook. The hooks must therefore restore skiboot's
 *     r13-r16 (saved before calling into the library) before running any
 *     skiboot code, and give the library its values back on return
 *     (boards/skiboot/pnv_iommu_hooks.S).
 */
#ifndef PNV_IOMMU_H
#define PNV_IOMMU_H

#include <stddef.h>
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
/*
 * The TVE value the library holds, and wrote to the TVT, for window_id of
 * phb_id, into *tve. A firmware with its own TVE cache (skiboot's
 * tve_cache[], written back to the TVT after a PHB reset) copies it after
 * each successful window call. PNV_OPAL_PARAMETER: unknown PHB, window_id
 * outside its TVT, tve NULL or misaligned (nothing written).
 */
int64_t pnv_iommu_phb_tve(uint64_t phb_id, uint64_t window_id, uint64_t *tve);
/* Untranslated window: start/size 16 MiB aligned, end < 2^50, bit 59 of
 * pci_start equal to window_id & 1; size 0 disables the window. */
int64_t pnv_opal_map_pe_dma_window_real(uint64_t phb_id, uint64_t pe, uint16_t window_id,
					uint64_t pci_start, uint64_t size);
int64_t pnv_opal_tce_kill(uint64_t phb_id, uint32_t kill_type, uint64_t pe,
			  uint32_t tce_size, uint64_t dma_addr, uint32_t npages);
int64_t pnv_opal_set_pe(uint64_t phb_id, uint64_t pe, uint64_t bdfn, uint8_t bus_compare,
			uint8_t dev_compare, uint8_t func_compare, uint8_t action);
/* Either pointer may be NULL; a misaligned pci_error_type gets PARAMETER. */
int64_t pnv_opal_eeh_freeze_status(uint64_t phb_id, uint64_t pe, uint8_t *freeze_state,
				   uint16_t *pci_error_type);
int64_t pnv_opal_eeh_freeze_clear(uint64_t phb_id, uint64_t pe, uint64_t option);
int64_t pnv_opal_eeh_freeze_set(uint64_t phb_id, uint64_t pe, uint64_t option);
int64_t pnv_opal_pci_reset(uint64_t phb_id, uint8_t scope, uint8_t assert_state);

/* One PCI function behind a PHB's root port (pnv_iommu_pci_enumerate). */
struct pnv_iommu_pci_function {
	uint16_t bdfn;          /* bus << 8 | device << 3 | function */
	uint16_t vendor;        /* PCI vendor ID */
	uint16_t device;        /* PCI device ID */
	uint16_t bar0_valid;    /* 1: BAR0 is an assigned memory BAR; 0: the
				 * bar0_* fields are 0 */
	uint64_t bar0_pci_addr; /* BAR0's PCI bus address */
	uint64_t bar0_cpu_addr; /* BAR0's CPU physical address (M32 window) */
	uint64_t bar0_size;     /* BAR0's size in bytes */
};

/*
 * Enumerates the bus behind PHB phb_id's root port (after its bring-up):
 * sets the root port's bus numbers (0 -> 1) and memory window, assigns every
 * function's memory BARs inside the PHB's 32-bit MMIO window, enables memory
 * decoding and bus mastering on each function and the root port, writes up
 * to max entries to out and the number of functions found to *count.
 * Calling it again assigns the same addresses again.
 *
 * PNV_OPAL_PARAMETER: unknown PHB, count NULL or misaligned, out NULL or
 * misaligned with max > 0, or max * sizeof(*out) overflows (nothing is
 * written). PNV_OPAL_PARTIAL: more than max functions (the first max are
 * written, *count is the total). PNV_OPAL_RESOURCE: the BARs do not fit the
 * window. PNV_OPAL_HARDWARE: config space cannot be reached.
 */
int64_t pnv_iommu_pci_enumerate(uint64_t phb_id, struct pnv_iommu_pci_function *out,
				uint64_t max, uint64_t *count);

/*
 * Attaches to PHB phb_index of chip chip_id, which another firmware (e.g.
 * skiboot) already brought up, with its registers at regs_base and num_pes
 * PEs, and registers it as phb_id for the other calls. Attaching writes no
 * register and takes no table: the owner keeps its RTT, PELT-V, PEST and
 * MMIO windows, and nothing is written when the library lets the PHB go.
 * pnv_opal_map_pe_dma_window, pnv_opal_map_pe_dma_window_real and
 * pnv_opal_tce_kill then work on it exactly as on a PHB the library brought
 * up (the TVT is taken to be all-invalid at attach, as skiboot's bring-up
 * leaves it); pnv_opal_set_pe, the freeze calls, pnv_opal_pci_reset with the
 * IODA scope and pnv_iommu_pci_enumerate return PNV_OPAL_UNSUPPORTED.
 * PNV_OPAL_PARAMETER: num_pes outside 1..512, regs_base 0 or not 64 KiB
 * aligned, phb_id taken, or a PHB with these registers already registered
 * (nothing is written). On the host build the PHB is a recording fake at
 * regs_base (pnv_iommu_host_write_count counts its writes).
 */
int64_t pnv_iommu_phb4_attach(uint64_t phb_id, uint32_t chip_id, uint32_t phb_index,
			      uint64_t regs_base, uint32_t num_pes);

#if defined(__powerpc64__)
/*
 * Brings up PHB phb_index of POWER9 chip 0 at skiboot's physical addresses
 * (XSCOM BARs, MMIO window, RTT and the other IODA tables, every RID mapped to
 * the reserved PE) and registers it as phb_id for the other calls. Its
 * tables come from pnv_iommu_alloc. PNV_OPAL_PARAMETER: no such PHB index,
 * the index was already brought up, or phb_id is taken (nothing is
 * written); PNV_OPAL_NO_MEM: an allocation failed; PNV_OPAL_HARDWARE: the
 * PHB does not answer.
 */
int64_t pnv_iommu_phb4_init(uint64_t phb_id, uint32_t phb_index);

/*
 * Hooks the firmware must define (bare-metal build only).
 *
 * pnv_iommu_alloc: size bytes aligned to align (a power of two; the PHB
 * tables ask for up to 128 KiB alignment), or NULL when out of memory (the
 * call that needed it then returns PNV_OPAL_NO_MEM where it can). Memory the
 * library uses for device tables must be ordinary RAM at its physical
 * address (real mode).
 *
 * pnv_iommu_free: gives back a block from pnv_iommu_alloc with the same size
 * and align it was allocated with.
 *
 * pnv_iommu_abort: the library hit a bug (a Rust panic); msg is len bytes of
 * text, not NUL-terminated. Must not return.
 */
void *pnv_iommu_alloc(size_t size, size_t align);
void pnv_iommu_free(void *p, size_t size, size_t align);
void pnv_iommu_abort(const char *msg, size_t len) __attribute__((noreturn));
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
