/* SPDX-License-Identifier: Apache-2.0 */
/* pnv-iommu's shim inside skiboot (pnv_iommu_shim.c). */
#ifndef PNV_IOMMU_SHIM_H
#define PNV_IOMMU_SHIM_H

#include <stddef.h>

/* Called once from skiboot's init after pci_init_slots(): attaches the
 * library to every PHB4 and routes their DMA-window calls to it. */
void pnv_iommu_shim_register(void);

/* The C hooks behind pnv_iommu_hooks.S's entries (skiboot's r13-r16
 * reloaded). */
void *pnv_iommu_shim_alloc(size_t size, size_t align);
void pnv_iommu_shim_free(void *p, size_t size, size_t align);
void pnv_iommu_shim_abort(const char *msg, size_t len) __attribute__((noreturn));

#endif
