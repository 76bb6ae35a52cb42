/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's callbacks into skiboot (pnv_iommu_alloc, pnv_iommu_free,
 * pnv_iommu_abort; see include/pnv_iommu.h).
 *
 * skiboot is compiled with r13-r16 fixed (r13-r15 belong to the OS, r16 is
 * skiboot's per-CPU pointer); Rust code uses r14-r16 as callee-saved
 * registers and may hold its own values there when it calls a hook. Each
 * entry here records the registers as the library left them
 * (pnv_iommu_library_regs), reloads the values saved at library entry
 * (pnv_iommu_skiboot_regs, written by the shim under its lock), calls the
 * C hook in pnv_iommu_shim.c (which checks them), and gives the library its
 * own values back on return.
 *
 * Frame (64 bytes): back chain 0, CR 8, LR save 16 (in the caller's frame),
 * TOC 24, the library's r13-r16 at 32..56. One TOC in skiboot's image: r2
 * is valid throughout, so these need no global entry sequence.
 */

#define HOOK(name, target)				\
	.section ".text", "ax";				\
	.balign 4;					\
	.global name;					\
	.type name, @function;				\
name:							\
	mflr	%r0;					\
	std	%r0,16(%r1);				\
	stdu	%r1,-64(%r1);				\
	std	%r13,32(%r1);				\
	std	%r14,40(%r1);				\
	std	%r15,48(%r1);				\
	std	%r16,56(%r1);				\
	addis	%r11,%r2,pnv_iommu_library_regs@toc@ha;	\
	addi	%r11,%r11,pnv_iommu_library_regs@toc@l;	\
	std	%r13,0(%r11);				\
	std	%r14,8(%r11);				\
	std	%r15,16(%r11);				\
	std	%r16,24(%r11);				\
	addis	%r11,%r2,pnv_iommu_skiboot_regs@toc@ha;	\
	addi	%r11,%r11,pnv_iommu_skiboot_regs@toc@l;	\
	ld	%r13,0(%r11);				\
	ld	%r14,8(%r11);				\
	ld	%r15,16(%r11);				\
	ld	%r16,24(%r11);				\
	bl	target;					\
	nop;						\
	ld	%r13,32(%r1);				\
	ld	%r14,40(%r1);				\
	ld	%r15,48(%r1);				\
	ld	%r16,56(%r1);				\
	addi	%r1,%r1,64;				\
	ld	%r0,16(%r1);				\
	mtlr	%r0;					\
	blr;						\
	.size name, . - name

HOOK(pnv_iommu_alloc, pnv_iommu_shim_alloc)
HOOK(pnv_iommu_free, pnv_iommu_shim_free)
HOOK(pnv_iommu_abort, pnv_iommu_shim_abort)

/*
 * Self-test helper (pnv_iommu_shim.c, at registration): calls the function
 * at r6 with arguments r3-r5 while r14 and r15 hold a marker, as the
 * library might when it calls a hook; restores them after.
 */
	.section ".text", "ax"
	.balign 4
	.global pnv_iommu_hooks_call_clobbered
	.type pnv_iommu_hooks_call_clobbered, @function
pnv_iommu_hooks_call_clobbered:
	mflr	%r0
	std	%r0,16(%r1)
	stdu	%r1,-64(%r1)
	std	%r2,24(%r1)
	std	%r14,32(%r1)
	std	%r15,40(%r1)
	mtctr	%r6
	mr	%r12,%r6
	lis	%r14,0x5eed
	ori	%r14,%r14,0x5eed
	not	%r15,%r14
	bctrl
	ld	%r2,24(%r1)
	ld	%r14,32(%r1)
	ld	%r15,40(%r1)
	addi	%r1,%r1,64
	ld	%r0,16(%r1)
	mtlr	%r0
	blr
	.size pnv_iommu_hooks_call_clobbered, . - pnv_iommu_hooks_call_clobbered
