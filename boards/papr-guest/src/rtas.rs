//! RTAS calls through H_RTAS (0xf000): the argument buffer is big-endian
//! u32s `token, nargs, nret, args..., rets...` in the work area; the
//! hypervisor fills `rets`, whose first word is the RTAS status.
//!
//! PCI configuration access (`ibm,read-pci-config`, `ibm,write-pci-config`)
//! and the dynamic DMA window calls (query, create, remove, reset).

use crate::hcall::{H_RTAS, hcall};
use crate::work::{self, Region};

/// What `call` presets every return word to: a word still holding it
/// after the call was not written by the hypervisor.
pub const UNWRITTEN: u32 = 0xdead_beef;

/// Room for arguments plus returns in one call.
const MAX_WORDS: usize = 16;

/// Why an RTAS call did not produce outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtasError {
    /// The H_RTAS hypercall itself failed with this status.
    Hcall(i64),
    /// The call's token is not in the device tree.
    NoToken,
}

/// Calls `token` with `args`; returns the `N` return words (status first).
pub fn call<const N: usize>(token: u32, args: &[u32]) -> Result<[u32; N], RtasError> {
    assert!(args.len() + N <= MAX_WORDS, "RTAS call too large");
    let buf = Region::Rtas;
    work::write32(buf, 0, token);
    work::write32(buf, 4, args.len() as u32);
    work::write32(buf, 8, N as u32);
    for (i, a) in args.iter().enumerate() {
        work::write32(buf, 12 + 4 * i as u64, *a);
    }
    let rets_at = 12 + 4 * args.len() as u64;
    for i in 0..N as u64 {
        // An RTAS that forgets a return must not look like success.
        work::write32(buf, rets_at + 4 * i, UNWRITTEN);
    }
    let status = hcall(H_RTAS, &[buf.addr(0)]).status;
    if status != 0 {
        return Err(RtasError::Hcall(status));
    }
    let mut rets = [0u32; N];
    for (i, r) in rets.iter_mut().enumerate() {
        *r = work::read32(buf, rets_at + 4 * i as u64);
    }
    Ok(rets)
}

/// A PHB as RTAS names it: its BUID split in two cells.
#[derive(Clone, Copy, Debug)]
pub struct PhbAddr {
    /// Configuration address of the PE / device (bus << 16 | devfn << 8).
    pub config: u32,
    /// Bus unit id of the PHB.
    pub buid: u64,
}

impl PhbAddr {
    fn args(self) -> [u32; 3] {
        [self.config, (self.buid >> 32) as u32, self.buid as u32]
    }
}

/// Reads `size` (1, 2, 4) bytes at config register `reg` of `dev`.
/// Returns the RTAS status and the value.
pub fn read_config(
    token: Option<u32>,
    dev: PhbAddr,
    reg: u32,
    size: u32,
) -> Result<(i32, u32), RtasError> {
    let token = token.ok_or(RtasError::NoToken)?;
    let [c, hi, lo] = dev.args();
    let r: [u32; 2] = call(token, &[c | reg, hi, lo, size])?;
    Ok((r[0] as i32, r[1]))
}

/// Writes `size` (1, 2, 4) bytes of `value` at config register `reg` of `dev`.
pub fn write_config(
    token: Option<u32>,
    dev: PhbAddr,
    reg: u32,
    size: u32,
    value: u32,
) -> Result<i32, RtasError> {
    let token = token.ok_or(RtasError::NoToken)?;
    let [c, hi, lo] = dev.args();
    let r: [u32; 1] = call(token, &[c | reg, hi, lo, size, value])?;
    Ok(r[0] as i32)
}

/// What `ibm,query-pe-dma-window` answered.
#[derive(Clone, Copy, Debug)]
pub struct DdwQuery {
    /// RTAS status.
    pub status: i32,
    /// Windows that may still be created.
    pub available: u32,
    /// Largest block the hypervisor can map, in pages (of any size).
    pub largest_block: u64,
    /// Supported page sizes (bit 0x01 4K, 0x02 64K, 0x04 16M, ...).
    pub page_mask: u32,
}

/// `ibm,query-pe-dma-window`; `wide` asks for the 6-output form whose
/// largest block is two cells (the query-output extension).
pub fn ddw_query(token: u32, pe: PhbAddr, wide: bool) -> Result<DdwQuery, RtasError> {
    if wide {
        let r: [u32; 6] = call(token, &pe.args())?;
        Ok(DdwQuery {
            status: r[0] as i32,
            available: r[1],
            largest_block: (u64::from(r[2]) << 32) | u64::from(r[3]),
            page_mask: r[4],
        })
    } else {
        let r: [u32; 5] = call(token, &pe.args())?;
        Ok(DdwQuery {
            status: r[0] as i32,
            available: r[1],
            largest_block: u64::from(r[2]),
            page_mask: r[3],
        })
    }
}

/// `ibm,query-pe-dma-window` with `N` output words, as returned (status first).
pub fn ddw_query_cells<const N: usize>(token: u32, pe: PhbAddr) -> Result<[u32; N], RtasError> {
    call(token, &pe.args())
}

/// What `ibm,create-pe-dma-window` answered.
#[derive(Clone, Copy, Debug)]
pub struct DdwWindow {
    /// RTAS status.
    pub status: i32,
    /// LIOBN of the new window.
    pub liobn: u32,
    /// Bus address where it starts.
    pub start: u64,
}

/// `ibm,create-pe-dma-window` with 2^`page_shift` pages over 2^`window_shift` bytes.
pub fn ddw_create(
    token: u32,
    pe: PhbAddr,
    page_shift: u32,
    window_shift: u32,
) -> Result<DdwWindow, RtasError> {
    let [c, hi, lo] = pe.args();
    let r: [u32; 4] = call(token, &[c, hi, lo, page_shift, window_shift])?;
    Ok(DdwWindow {
        status: r[0] as i32,
        liobn: r[1],
        start: (u64::from(r[2]) << 32) | u64::from(r[3]),
    })
}

/// `ibm,remove-pe-dma-window` of `liobn`; returns the RTAS status.
pub fn ddw_remove(token: u32, liobn: u32) -> Result<i32, RtasError> {
    let r: [u32; 1] = call(token, &[liobn])?;
    Ok(r[0] as i32)
}

/// `ibm,reset-pe-dma-window`; returns the RTAS status.
pub fn ddw_reset(token: u32, pe: PhbAddr) -> Result<i32, RtasError> {
    let r: [u32; 1] = call(token, &pe.args())?;
    Ok(r[0] as i32)
}
