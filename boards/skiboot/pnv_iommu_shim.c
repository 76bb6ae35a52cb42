// SPDX-License-Identifier: Apache-2.0
/*
 * pnv-iommu inside skiboot: the project's shim, compiled into skiboot's own
 * build (xtask copies this directory into skiboot's tree as pnv-iommu/).
 *
 * pnv_iommu_shim_register(), called once from skiboot's init after
 * pci_init_slots(), attaches the library to every PHB4 skiboot brought up
 * (no register written) and swaps the PHB's three DMA-window entries of
 * struct phb_ops -- map_pe_dma_window, map_pe_dma_window_real, tce_kill --
 * for ones that call the library. There is no fallback to skiboot's own TVE
 * code: a PHB the library could not attach answers OPAL_HARDWARE.
 *
 * skiboot's TVE cache stays true: after each successful call the TVE value
 * the library wrote is copied into p->tve_cache[], which skiboot writes
 * back to the TVT after a PHB or IODA reset; the TVT entry is then read
 * back and compared with it.
 *
 * Counters: the OPAL entries of the three tokens are wrapped too, so every
 * call Linux makes is counted once at the OPAL level and once where it is
 * answered (by the library, or by a phb_ops entry that is not ours:
 * "skiboot"). The counters go to skiboot's in-memory log (msglog) at
 * PR_DEBUG after every call, with the tag "PNV-IOMMU:".
 *
 * Registers: skiboot keeps r13-r15 for the OS and its per-CPU pointer in
 * r16 (gcc -ffixed-r13..16); Rust code treats r14-r16 as ordinary
 * callee-saved registers. The library's callbacks into skiboot
 * (pnv_iommu_alloc/free/abort) enter through pnv_iommu_hooks.S, which
 * reloads the r13-r16 saved here at library entry; each hook then checks
 * them (r16 against the CPU table) and counts any mismatch.
 */

#include <skiboot.h>
#include <cpu.h>
#include <lock.h>
#include <opal.h>
#include <opal-internal.h>
#include <pci.h>
#include <phb4.h>
#include <phb4-regs.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

#include "pnv_iommu.h"
#include "pnv_iommu_shim.h"

#define TAG "PNV-IOMMU: "

/* skiboot's OPAL branch table (asm/misc.S), indexed by token. */
extern const uint64_t opal_branch_table[];

/* The library (Rust's core) calls bcmp, which skiboot's libc lacks. */
int bcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

/* The DMA-window calls the shim routes. */
enum routed_call { CALL_MAP, CALL_MAP_REAL, CALL_KILL, CALL_KINDS };

static const char *const call_names[CALL_KINDS] = { "map", "real", "kill" };
static const uint64_t call_tokens[CALL_KINDS] = {
	OPAL_PCI_MAP_PE_DMA_WINDOW, OPAL_PCI_MAP_PE_DMA_WINDOW_REAL, OPAL_PCI_TCE_KILL,
};

static struct {
	uint64_t opal[CALL_KINDS];	/* OPAL calls of the token */
	uint64_t library[CALL_KINDS];	/* answered by the library */
	uint64_t library_err[CALL_KINDS]; /* ... with a non-zero OPAL code */
	uint64_t skiboot[CALL_KINDS];	/* answered by a phb_ops entry not ours */
	uint64_t hooks;			/* callbacks from the library */
	uint64_t hooks_regs_changed;	/* arrived with r13-r16 not skiboot's */
	uint64_t hooks_regs_bad;	/* r13-r16 wrong inside the hook */
	uint64_t tvt_checked;		/* TVEs read back after a call */
	uint64_t tvt_mismatch;		/* ... differing from tve_cache[] */
} counters;

/* r13-r16 at library entry (read by pnv_iommu_hooks.S), and as the library
 * left them when it called a hook (written by pnv_iommu_hooks.S). */
uint64_t pnv_iommu_skiboot_regs[4];
uint64_t pnv_iommu_library_regs[4];

/* One library call at a time: pnv_iommu_skiboot_regs is per call. */
static struct lock library_lock = LOCK_UNLOCKED;

static void enter_library(void)
{
	lock(&library_lock);
	asm volatile("std 13,0(%0)\n\tstd 14,8(%0)\n\tstd 15,16(%0)\n\tstd 16,24(%0)"
		     : : "b"(pnv_iommu_skiboot_regs) : "memory");
}

static void leave_library(void)
{
	unlock(&library_lock);
}

static void print_counters(void)
{
	prlog(PR_DEBUG, TAG "counters map %llu/%llu/%llu/%llu real %llu/%llu/%llu/%llu "
	      "kill %llu/%llu/%llu/%llu (opal/library/library-errors/skiboot) "
	      "hooks %llu regs-changed %llu regs-bad %llu tvt-checked %llu tvt-mismatch %llu\n",
	      counters.opal[CALL_MAP], counters.library[CALL_MAP],
	      counters.library_err[CALL_MAP], counters.skiboot[CALL_MAP],
	      counters.opal[CALL_MAP_REAL], counters.library[CALL_MAP_REAL],
	      counters.library_err[CALL_MAP_REAL], counters.skiboot[CALL_MAP_REAL],
	      counters.opal[CALL_KILL], counters.library[CALL_KILL],
	      counters.library_err[CALL_KILL], counters.skiboot[CALL_KILL],
	      counters.hooks, counters.hooks_regs_changed, counters.hooks_regs_bad,
	      counters.tvt_checked, counters.tvt_mismatch);
}

/* ---- Callbacks from the library (entered through pnv_iommu_hooks.S) ---- */

/* Set during the registration self-test: a caught mismatch is expected. */
static bool selftest_running;

void pnv_iommu_shim_check_regs(void)
{
	uint64_t r[4];
	struct cpu_thread *me = find_cpu_by_pir(mfspr(SPR_PIR));
	int i;

	asm volatile("std 13,0(%0)\n\tstd 14,8(%0)\n\tstd 15,16(%0)\n\tstd 16,24(%0)"
		     : : "b"(r) : "memory");
	counters.hooks++;
	for (i = 0; i < 4; i++)
		if (pnv_iommu_library_regs[i] != pnv_iommu_skiboot_regs[i]) {
			counters.hooks_regs_changed++;
			break;
		}
	for (i = 0; i < 4; i++)
		if (r[i] != pnv_iommu_skiboot_regs[i])
			break;
	if (i < 4 || (void *)r[3] != (void *)me || this_cpu() != me) {
		counters.hooks_regs_bad++;
		if (!selftest_running)
				prlog(PR_ERR, TAG "hook entered with r13-r16 %llx %llx %llx %llx, "
			      "skiboot's are %llx %llx %llx %llx (cpu %p)\n",
			      r[0], r[1], r[2], r[3], pnv_iommu_skiboot_regs[0],
			      pnv_iommu_skiboot_regs[1], pnv_iommu_skiboot_regs[2],
			      pnv_iommu_skiboot_regs[3], me);
	}
}

void *pnv_iommu_shim_alloc(size_t size, size_t align)
{
	pnv_iommu_shim_check_regs();
	return memalign(align, size);
}

void pnv_iommu_shim_free(void *p, size_t size, size_t align)
{
	(void)size;
	(void)align;
	pnv_iommu_shim_check_regs();
	free(p);
}

void pnv_iommu_shim_abort(const char *msg, size_t len)
{
	pnv_iommu_shim_check_regs();
	prlog(PR_EMERG, TAG "%.*s\n", (int)len, msg);
	abort();
}

/* ---- The routed phb_ops entries ---- */

static int64_t library_answered(enum routed_call call, int64_t rc)
{
	counters.library[call]++;
	if (rc != OPAL_SUCCESS)
		counters.library_err[call]++;
	return rc;
}

/*
 * Copies the TVE the library now holds for window_id into skiboot's cache,
 * then reads the TVT entry back from the PHB (IODA_ADDR/IODA_DATA0, under
 * the PHB lock like skiboot's own IODA accesses) and counts a mismatch: the
 * proof that the cache skiboot restores after a reset is what the hardware
 * holds.
 */
static int64_t keep_tve_cache(struct phb *phb, uint16_t window_id)
{
	struct phb4 *p = phb_to_phb4(phb);
	uint64_t tvt;
	int64_t rc;

	if (window_id >= ARRAY_SIZE(p->tve_cache))
		return OPAL_INTERNAL_ERROR;
	rc = pnv_iommu_phb_tve(phb->opal_id, window_id, &p->tve_cache[window_id]);
	if (rc != OPAL_SUCCESS)
		return rc;
	out_be64(p->regs + PHB_IODA_ADDR, SETFIELD(PHB_IODA_AD_TSEL, 0ull, IODA3_TBL_TVT) |
		 SETFIELD(PHB_IODA_AD_TADR, 0ull, window_id));
	tvt = in_be64(p->regs + PHB_IODA_DATA0);
	counters.tvt_checked++;
	if (tvt != p->tve_cache[window_id]) {
		counters.tvt_mismatch++;
		prlog(PR_ERR, TAG "PHB#%04x TVE %u: TVT holds %016llx, tve_cache %016llx\n",
		      phb->opal_id, window_id, tvt, p->tve_cache[window_id]);
	}
	return OPAL_SUCCESS;
}

static int64_t routed_map_pe_dma_window(struct phb *phb, uint64_t pe, uint16_t window_id,
					uint16_t levels, uint64_t table_addr,
					uint64_t table_size, uint64_t page_size)
{
	int64_t rc;

	enter_library();
	rc = pnv_opal_map_pe_dma_window(phb->opal_id, pe, window_id, levels, table_addr,
					table_size, page_size);
	if (rc == OPAL_SUCCESS)
		rc = keep_tve_cache(phb, window_id);
	leave_library();
	return library_answered(CALL_MAP, rc);
}

static int64_t routed_map_pe_dma_window_real(struct phb *phb, uint64_t pe,
					     uint16_t window_id, uint64_t pci_start,
					     uint64_t size)
{
	int64_t rc;

	enter_library();
	rc = pnv_opal_map_pe_dma_window_real(phb->opal_id, pe, window_id, pci_start, size);
	if (rc == OPAL_SUCCESS)
		rc = keep_tve_cache(phb, window_id);
	leave_library();
	return library_answered(CALL_MAP_REAL, rc);
}

static int64_t routed_tce_kill(struct phb *phb, uint32_t kill_type, uint64_t pe,
			       uint32_t tce_size, uint64_t dma_addr, uint32_t npages)
{
	int64_t rc;

	enter_library();
	rc = pnv_opal_tce_kill(phb->opal_id, kill_type, pe, tce_size, dma_addr, npages);
	leave_library();
	return library_answered(CALL_KILL, rc);
}

/* A PHB4 the library could not attach: the routed calls fail, loudly. */
static int64_t unattached_map(struct phb *phb, uint64_t pe, uint16_t w, uint16_t l,
			      uint64_t a, uint64_t s, uint64_t ps)
{
	(void)pe; (void)w; (void)l; (void)a; (void)s; (void)ps;
	prlog(PR_ERR, TAG "PHB#%04x not attached: map_pe_dma_window refused\n", phb->opal_id);
	return library_answered(CALL_MAP, OPAL_HARDWARE);
}

static int64_t unattached_map_real(struct phb *phb, uint64_t pe, uint16_t w,
				   uint64_t start, uint64_t size)
{
	(void)pe; (void)w; (void)start; (void)size;
	prlog(PR_ERR, TAG "PHB#%04x not attached: map_pe_dma_window_real refused\n",
	      phb->opal_id);
	return library_answered(CALL_MAP_REAL, OPAL_HARDWARE);
}

static int64_t unattached_kill(struct phb *phb, uint32_t t, uint64_t pe, uint32_t ts,
			       uint64_t a, uint32_t n)
{
	(void)t; (void)pe; (void)ts; (void)a; (void)n;
	prlog(PR_ERR, TAG "PHB#%04x not attached: tce_kill refused\n", phb->opal_id);
	return library_answered(CALL_KILL, OPAL_HARDWARE);
}

/* skiboot's PHB4 ops with the three entries routed (one copy serves every
 * attached PHB4), and the same for PHBs the library refused. */
static struct phb_ops routed_ops, unattached_ops;

static bool is_routed(const struct phb_ops *ops)
{
	return ops == &routed_ops || ops == &unattached_ops;
}

static void route_phb(struct phb *phb)
{
	struct phb4 *p = phb_to_phb4(phb);
	int64_t rc;

	if (!routed_ops.map_pe_dma_window) {
		routed_ops = *phb->ops;
		routed_ops.map_pe_dma_window = routed_map_pe_dma_window;
		routed_ops.map_pe_dma_window_real = routed_map_pe_dma_window_real;
		routed_ops.tce_kill = routed_tce_kill;
		unattached_ops = *phb->ops;
		unattached_ops.map_pe_dma_window = unattached_map;
		unattached_ops.map_pe_dma_window_real = unattached_map_real;
		unattached_ops.tce_kill = unattached_kill;
	}
	enter_library();
	rc = pnv_iommu_phb4_attach(phb->opal_id, p->chip_id, p->index,
				   (uint64_t)p->regs, p->num_pes);
	leave_library();
	phb_lock(phb);
	phb->ops = rc == OPAL_SUCCESS ? &routed_ops : &unattached_ops;
	phb_unlock(phb);
	if (rc == OPAL_SUCCESS)
		prlog(PR_NOTICE, TAG "PHB#%04x (chip %u PHB%u, regs %p, %u PEs) attached: "
		      "DMA windows and TCE kills served by pnv-iommu\n",
		      phb->opal_id, p->chip_id, p->index, p->regs, p->num_pes);
	else
		prlog(PR_ERR, TAG "PHB#%04x attach failed (%lld): its DMA-window calls "
		      "will fail\n", phb->opal_id, rc);
}

/* ---- OPAL-level wrappers: count every call, see who answers ---- */

typedef int64_t (*map_call)(uint64_t, uint64_t, uint16_t, uint16_t, uint64_t, uint64_t,
			    uint64_t);
typedef int64_t (*map_real_call)(uint64_t, uint64_t, uint16_t, uint64_t, uint64_t);
typedef int64_t (*kill_call)(uint64_t, uint32_t, uint64_t, uint32_t, uint64_t, uint32_t);

static uint64_t skiboot_entry[CALL_KINDS];

/* Counts the OPAL call and, when the PHB's entry for it is not ours, counts
 * it as answered by skiboot. */
static void count_opal_call(enum routed_call call, uint64_t phb_id)
{
	struct phb *phb = pci_get_phb(phb_id);

	counters.opal[call]++;
	if (phb && !is_routed(phb->ops))
		counters.skiboot[call]++;
}

static int64_t opal_map(uint64_t phb_id, uint64_t pe, uint16_t window_id, uint16_t levels,
			uint64_t table_addr, uint64_t table_size, uint64_t page_size)
{
	int64_t rc;

	count_opal_call(CALL_MAP, phb_id);
	rc = ((map_call)skiboot_entry[CALL_MAP])(phb_id, pe, window_id, levels, table_addr,
						 table_size, page_size);
	print_counters();
	return rc;
}

static int64_t opal_map_real(uint64_t phb_id, uint64_t pe, uint16_t window_id,
			     uint64_t pci_start, uint64_t size)
{
	int64_t rc;

	count_opal_call(CALL_MAP_REAL, phb_id);
	rc = ((map_real_call)skiboot_entry[CALL_MAP_REAL])(phb_id, pe, window_id, pci_start,
							   size);
	print_counters();
	return rc;
}

static int64_t opal_kill(uint64_t phb_id, uint32_t kill_type, uint64_t pe,
			 uint32_t tce_size, uint64_t dma_addr, uint32_t npages)
{
	int64_t rc;

	count_opal_call(CALL_KILL, phb_id);
	rc = ((kill_call)skiboot_entry[CALL_KILL])(phb_id, kill_type, pe, tce_size, dma_addr,
						   npages);
	print_counters();
	return rc;
}

static void wrap_opal_calls(void)
{
	int i;

	for (i = 0; i < CALL_KINDS; i++)
		skiboot_entry[i] = opal_branch_table[call_tokens[i]];
	opal_register(OPAL_PCI_MAP_PE_DMA_WINDOW, opal_map, 7);
	opal_register(OPAL_PCI_MAP_PE_DMA_WINDOW_REAL, opal_map_real, 5);
	opal_register(OPAL_PCI_TCE_KILL, opal_kill, 6);
	for (i = 0; i < CALL_KINDS; i++)
		prlog(PR_DEBUG, TAG "OPAL token %llu (%s) counted\n", call_tokens[i],
		      call_names[i]);
}

/*
 * Proves the register handling both ways, once at boot: with r14/r15 holding
 * a marker (as library code may), a call through the alloc and free hooks
 * must arrive with skiboot's registers (changed on entry, intact inside),
 * and a direct call of the check must catch the marker. The counters are
 * then put back, so they count only the library's own callbacks.
 */
static void hooks_selftest(void)
{
	uint64_t hooks = counters.hooks;
	uint64_t changed = counters.hooks_regs_changed;
	uint64_t bad = counters.hooks_regs_bad;
	bool restored, caught;
	uint64_t p;

	enter_library();
	selftest_running = true;
	p = pnv_iommu_hooks_call_clobbered(64, 8, 0, (void *)pnv_iommu_alloc);
	pnv_iommu_hooks_call_clobbered(p, 64, 8, (void *)pnv_iommu_free);
	restored = p && counters.hooks_regs_changed == changed + 2 &&
		counters.hooks_regs_bad == bad;
	pnv_iommu_hooks_call_clobbered(0, 0, 0, (void *)pnv_iommu_shim_check_regs);
	caught = counters.hooks_regs_bad == bad + 1;
	selftest_running = false;
	leave_library();
	counters.hooks = hooks;
	counters.hooks_regs_changed = changed;
	counters.hooks_regs_bad = bad;
	prlog(PR_NOTICE, TAG "hook self-test: r14/r15 clobbered before a hook %s, "
	      "a direct check %s: %s\n", restored ? "restored" : "NOT restored",
	      caught ? "caught" : "NOT caught", restored && caught ? "ok" : "FAILED");
}

void pnv_iommu_shim_register(void)
{
	struct phb *phb;

	hooks_selftest();

	for_each_phb(phb)
		if (phb->phb_type == phb_type_pcie_v4)
			route_phb(phb);
	wrap_opal_calls();
	print_counters();
}
