//! The `sc 1` hypercall instruction, the opcodes and status codes the suite
//! uses (DESIGN §8), and the device-access hypercalls a real-mode guest needs.
//!
//! This module and `work` hold the guest's `unsafe`; the cases above them
//! are safe Rust.

use core::sync::atomic::{AtomicI64, Ordering};
use pnv_iommu::mmio::{Endian, RegisterIo, Width, swap};

/// H_GET_TCE: r4 = LIOBN, r5 = IOBA; returns the TCE in r4.
pub const H_GET_TCE: u64 = 0x1c;
/// H_PUT_TCE: r4 = LIOBN, r5 = IOBA, r6 = TCE.
pub const H_PUT_TCE: u64 = 0x20;
/// H_LOGICAL_CI_LOAD: r4 = size, r5 = address; returns the value in r4.
pub const H_LOGICAL_CI_LOAD: u64 = 0x3c;
/// H_LOGICAL_CI_STORE: r4 = size, r5 = address, r6 = value.
pub const H_LOGICAL_CI_STORE: u64 = 0x40;
/// H_PUT_TERM_CHAR: r4 = terminal, r5 = length, r6/r7 = bytes.
pub const H_PUT_TERM_CHAR: u64 = 0x58;
/// H_STUFF_TCE: r4 = LIOBN, r5 = IOBA, r6 = TCE, r7 = count.
pub const H_STUFF_TCE: u64 = 0x138;
/// H_PUT_TCE_INDIRECT: r4 = LIOBN, r5 = IOBA, r6 = list address, r7 = count.
pub const H_PUT_TCE_INDIRECT: u64 = 0x13c;
/// H_RTAS: r4 = guest real address of the RTAS argument buffer.
pub const H_RTAS: u64 = 0xf000;
/// pnv-iommu's private hypercall that ends a guest run (r4 = 0 pass, 1 fail).
pub const H_PNV_GUEST_EXIT: u64 = 0xf3f0;
/// An opcode no hypervisor defines (architected range, multiple of 4).
pub const H_UNDEFINED: u64 = 0x7ffc;

/// Hypercall status codes, as LoPAPR numbers them (those the suite expects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum HStatus {
    /// H_SUCCESS.
    Success = 0,
    /// H_FUNCTION: the opcode is not supported.
    Function = -2,
    /// H_PRIVILEGE: the caller is in problem state.
    Privilege = -3,
    /// H_PARAMETER.
    Parameter = -4,
    /// H_P4: the fourth parameter is invalid.
    P4 = -57,
}

impl HStatus {
    /// The number on the wire.
    pub const fn code(self) -> i64 {
        self as i64
    }
}

/// What a hypercall returned: r3 as a signed status and r4..r7.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    /// r3.
    pub status: i64,
    /// r4..r7.
    pub out: [u64; 4],
}

/// Issues `sc 1` with `opcode` in r3 and `args` in r4..r11 (missing ones 0).
pub fn hcall(opcode: u64, args: &[u64]) -> Answer {
    let mut a = [0u64; 8];
    for (slot, v) in a.iter_mut().zip(args) {
        *slot = *v;
    }
    let (r3, r4, r5, r6, r7): (u64, u64, u64, u64, u64);
    // SAFETY: `sc 1` enters the hypervisor, which returns to the next
    // instruction with r3..r12, r0, CTR, XER and CR0/1/5-7 possibly changed
    // (PAPR's volatile set, covered by clobber_abi("C") and the operands) and
    // every other register preserved. The hypervisor may read or write guest
    // memory only where an argument names it: the callers pass addresses of
    // the work area (see `work`), whose accesses are volatile.
    unsafe {
        core::arch::asm!(
            "sc 1",
            inout("r3") opcode => r3,
            inout("r4") a[0] => r4,
            inout("r5") a[1] => r5,
            inout("r6") a[2] => r6,
            inout("r7") a[3] => r7,
            inout("r8") a[4] => _,
            inout("r9") a[5] => _,
            inout("r10") a[6] => _,
            inout("r11") a[7] => _,
            clobber_abi("C"),
        );
    }
    Answer {
        status: r3 as i64,
        out: [r4, r5, r6, r7],
    }
}

/// Bound on retries of a busy console.
const TERM_RETRIES: u32 = 1000;

/// Writes up to 16 bytes to virtual terminal 0 (H_PUT_TERM_CHAR).
pub fn put_term(bytes: &[u8]) {
    for chunk in bytes.chunks(16) {
        let mut buf = [0u8; 16];
        buf[..chunk.len()].copy_from_slice(chunk);
        let hi = u64::from_be_bytes(buf[..8].try_into().unwrap_or([0; 8]));
        let lo = u64::from_be_bytes(buf[8..].try_into().unwrap_or([0; 8]));
        for _ in 0..TERM_RETRIES {
            // H_BUSY (1) and the long-busy codes ask to try again; anything
            // else (success or an error) ends the attempt: the console has
            // nowhere to report its own failure.
            let s = hcall(H_PUT_TERM_CHAR, &[0, chunk.len() as u64, hi, lo]).status;
            if !(1..=9905).contains(&s) {
                break;
            }
        }
    }
}

/// A device access the hypervisor refused: the H_LOGICAL_CI_* status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CiError(pub i64);

/// The first refused H_LOGICAL_CI_* status not yet taken (0: none; a refusal
/// is never 0). The guest runs on one thread.
static CI_REFUSED: AtomicI64 = AtomicI64::new(0);

/// Device register access from real mode through H_LOGICAL_CI_LOAD/STORE,
/// as a [`RegisterIo`] so the shared drivers (`pnv_rt::edu`) run on it.
///
/// [`RegisterIo`] cannot fail and these hypercalls can: the first refused
/// access is kept, and from then on no access reaches the hypervisor (a
/// load reads 0, so no poll waits on it) until the caller takes the refusal
/// with [`CiIo::take_refusal`], which it does after every driver operation.
#[derive(Clone, Copy, Debug)]
pub struct CiIo;

impl CiIo {
    /// The first access refused since the last call, if any; clears it.
    pub fn take_refusal() -> Option<CiError> {
        match CI_REFUSED.swap(0, Ordering::SeqCst) {
            0 => None,
            s => Some(CiError(s)),
        }
    }

    /// Whether an earlier access was refused and not yet taken.
    fn refused() -> bool {
        CI_REFUSED.load(Ordering::SeqCst) != 0
    }

    /// Keeps `status` if it is a refusal and the first one; whether the
    /// access succeeded.
    fn record(status: i64) -> bool {
        if status != 0 {
            let _ = CI_REFUSED.compare_exchange(0, status, Ordering::SeqCst, Ordering::SeqCst);
        }
        status == 0
    }
}

impl RegisterIo for CiIo {
    fn read(&self, addr: u64, width: Width, endian: Endian) -> u64 {
        if Self::refused() {
            return 0;
        }
        let a = hcall(H_LOGICAL_CI_LOAD, &[width.bytes(), addr]);
        if !Self::record(a.status) {
            return 0;
        }
        // The hypercall returns the value a big-endian load would see.
        match endian {
            Endian::Big => a.out[0] & width.mask(),
            Endian::Little => swap(a.out[0], width),
        }
    }

    fn write(&self, addr: u64, width: Width, endian: Endian, value: u64) {
        if Self::refused() {
            return;
        }
        let raw = match endian {
            Endian::Big => value & width.mask(),
            Endian::Little => swap(value, width),
        };
        Self::record(hcall(H_LOGICAL_CI_STORE, &[width.bytes(), addr, raw]).status);
    }

    fn barrier(&self) {
        // Each hypercall completes its access before it returns.
    }
}
