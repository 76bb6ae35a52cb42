/* SPDX-License-Identifier: Apache-2.0 */
/* pnv-iommu's shim inside skiboot (pnv_iommu_shim.c). */
#ifndef PNV_IOMMU_SHIM_H
#define PNV_IOMMU_SHIM_H

#include <stddef.h>
#include <stdint.h>

/* Called once from skiboot's init after pci_init_slots(): attaches the
 * library to every PHB4 and routes their DMA-window calls to it. */
void pnv_iommu_shim_register(void);

/* The C hooks behind pnv_iommu_hooks.S's entries (skiboot's r13-r16
 * reloaded). */
void *pnv_iommu_shim_alloc(size_t size, size_t align);
void pnv_iommu_shim_free(void *p, size_t size, size_t align);
void pnv_iommu_shim_abort(const char *msg, size_t len) __attribute__((noreturn));

/* The check every hook makes: r13-r16 are skiboot's (counted). */
void pnv_iommu_shim_check_regs(void);

/* pnv_iommu_hooks.S: calls fn(a, b, c) with r14/r15 set to a marker. */
uint64_t pnv_iommu_hooks_call_clobbered(uint64_t a, uint64_t b, uint64_t c, void *fn);

#endif
