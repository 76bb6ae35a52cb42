/*
 * Entry of the C test firmware (ELFv2, big-endian, hypervisor real mode).
 *
 * QEMU powernv loads the raw image at physical 0 and starts every thread at
 * 0x10 with r3 = device tree. Layout of the .head section (address 0):
 *   0x10         branch to boot
 *   0x20..0x100  boot-argument block: "PNVARGS\0" then a NUL-terminated
 *                string that cargo xtask patches into the image
 *   0x100..0x1000 exception vectors, one stub every 0x20 bytes: vector
 *                offset in r3, then exception_entry
 *
 * boot: threads other than PIR 0 park; the boot thread turns on MSR[ME]
 * (machine checks are reported, not checkstops) and FP/VEC/VSX (compiled
 * code may use vector registers), sets r2 to the linker's .TOC. and r1 to
 * the boot stack, clears BSS and calls c_main(fdt), which does not return.
 */

/* Load the 64-bit address of a symbol into a register (no TOC needed). */
#define LOAD_ADDR(reg, sym)		\
	lis	reg, sym@highest;	\
	ori	reg, reg, sym@higher;	\
	rldicr	reg, reg, 32, 31;	\
	oris	reg, reg, sym@h;	\
	ori	reg, reg, sym@l

	.section .head, "ax"
	.globl	_start
_start:
	b	boot
	. = 0x10
	b	boot

	. = 0x20
	.globl	boot_args
boot_args:
	.ascii	"PNVARGS\0"
	.space	0xd8

	.set	vec, 0x100
	.rept	(0x1000 - 0x100) / 0x20
	. = vec
	li	3, vec
	b	exception_entry
	.set	vec, vec + 0x20
	.endr

	.section .text.boot, "ax"
boot:
	mfspr	4, 1023			/* PIR */
	cmpdi	4, 0
	bne	park
	mr	31, 3			/* device tree */
	mfmsr	5
	ori	5, 5, 0x3000		/* ME | FP */
	oris	5, 5, 0x0280		/* VEC | VSX */
	mtmsrd	5
	isync
	LOAD_ADDR(2, .TOC.)
	LOAD_ADDR(1, __boot_stack_top)
	LOAD_ADDR(6, __bss_start)	/* both ends 8-byte aligned (linker script) */
	LOAD_ADDR(7, __bss_end)
	li	8, 0
1:	cmpld	6, 7
	bge	2f
	std	8, 0(6)
	addi	6, 6, 8
	b	1b
2:	li	0, 0
	stdu	0, -256(1)		/* terminated back chain */
	mr	3, 31
	bl	c_main
	nop
3:	b	3b

park:
	or	1, 1, 1			/* low thread priority */
	b	park

/* r3 = vector offset. Never returns: c_exception reports and halts. */
	.section .text.exception_entry, "ax"
exception_entry:
	mfmsr	1			/* r1 is reloaded below */
	ori	1, 1, 0x2000		/* FP (an interrupt clears it) */
	oris	1, 1, 0x0280		/* VEC | VSX */
	mtmsrd	1
	isync
	LOAD_ADDR(1, __exception_stack_top)
	li	0, 0
	stdu	0, -256(1)
	LOAD_ADDR(2, .TOC.)
	mfspr	4, 26			/* SRR0 */
	mfspr	5, 27			/* SRR1 */
	mfspr	6, 314			/* HSRR0 */
	mfspr	7, 315			/* HSRR1 */
	bl	c_exception
	nop
4:	b	4b
