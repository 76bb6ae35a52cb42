//! `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp` for the bare-metal images.
//!
//! The musl target expects them from libc, which a firmware does not link.
//! They are written in assembly so the compiler cannot turn their loops back
//! into calls to themselves. Aligned runs move 8 bytes at a time.

core::arch::global_asm!(
    r#"
.section .text.mem, "ax"

.globl memcpy
.type memcpy, @function
memcpy:
    mr 6, 3
    cmpldi 5, 0
    beqlr
    or 7, 3, 4
    andi. 7, 7, 7
    bne 2f
    srdi. 8, 5, 3
    beq 2f
    mtctr 8
1:  ld 9, 0(4)
    std 9, 0(6)
    addi 4, 4, 8
    addi 6, 6, 8
    bdnz 1b
    andi. 5, 5, 7
    beqlr
2:  mtctr 5
3:  lbz 9, 0(4)
    stb 9, 0(6)
    addi 4, 4, 1
    addi 6, 6, 1
    bdnz 3b
    blr

.globl memmove
.type memmove, @function
memmove:
    cmpld 3, 4
    ble memcpy            /* dst <= src: a forward copy is safe */
    add 7, 4, 5
    cmpld 3, 7
    bge memcpy            /* no overlap */
    cmpldi 5, 0
    beqlr
    mtctr 5
    add 6, 3, 5
1:  lbzu 9, -1(7)
    stbu 9, -1(6)
    bdnz 1b
    blr

.globl memset
.type memset, @function
memset:
    mr 6, 3
    cmpldi 5, 0
    beqlr
    andi. 7, 3, 7
    bne 2f
    srdi. 8, 5, 3
    beq 2f
    rlwinm 9, 4, 0, 24, 31
    rldimi 9, 9, 8, 48
    rldimi 9, 9, 16, 32
    rldimi 9, 9, 32, 0
    mtctr 8
1:  std 9, 0(6)
    addi 6, 6, 8
    bdnz 1b
    andi. 5, 5, 7
    beqlr
2:  mtctr 5
3:  stb 4, 0(6)
    addi 6, 6, 1
    bdnz 3b
    blr

.globl memcmp
.type memcmp, @function
.globl bcmp
.type bcmp, @function
memcmp:
bcmp:
    cmpldi 5, 0
    beq 2f
    mtctr 5
1:  lbz 6, 0(3)
    lbz 7, 0(4)
    cmpw 6, 7
    bne 3f
    addi 3, 3, 1
    addi 4, 4, 1
    bdnz 1b
2:  li 3, 0
    blr
3:  subf 3, 7, 6
    blr
"#
);
