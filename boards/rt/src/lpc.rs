//! ISA I/O on a POWER8's LPC bus, reached through the LPC controller's
//! ECCB registers over XSCOM — on QEMU `powernv8` the only path to the
//! console UART (its `isa@…` node sits under the XSCOM node, with no
//! `ranges` to the CPU's address space).
//!
//! One byte access: write the data register (for a store), write the
//! control register (size, direction, OPB address), then poll the status
//! register for OP_DONE (bounded; reading it clears it); a load's byte is
//! in the status register's read-data field. ISA I/O port `p` is OPB
//! address `LPC_IO_OPB_ADDR + p`. Layout as QEMU's `pnv_lpc.c` decodes it.

use pnv_iommu::mmio::RegisterIo;
use pnv_iommu::phb3::regs::{p8_xscom_addr, ppc_bit, ppc_bitmask, ppc_field};

/// ECCB control register (PCBA offset from the LPC block).
pub const ECCB_CTL: u32 = 0;
/// ECCB status register.
pub const ECCB_STAT: u32 = 2;
/// ECCB data register (store data in its top byte).
pub const ECCB_DATA: u32 = 3;
/// ECCB_CTL: the access is a read.
pub const ECCB_CTL_READ: u64 = ppc_bit(15);
/// ECCB_CTL: data size in bytes.
pub const ECCB_CTL_DATASZ: u64 = ppc_bitmask(4, 7);
/// ECCB_CTL: OPB address.
pub const ECCB_CTL_ADDR: u64 = ppc_bitmask(32, 63);
/// ECCB_STAT: the operation finished.
pub const ECCB_STAT_OP_DONE: u64 = ppc_bit(52);
/// ECCB_STAT: data read (first byte in the field's top bits).
pub const ECCB_STAT_RD_DATA: u64 = ppc_bitmask(6, 37);
/// OPB address of ISA I/O port 0.
pub const LPC_IO_OPB_ADDR: u32 = 0xd001_0000;
/// Status polls before an access counts as lost.
pub const POLL_LIMIT: u32 = 10_000;

/// An ECCB access did not report OP_DONE within [`POLL_LIMIT`] polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout;

/// The `ECCB_CTL` word of a 1-byte access to ISA I/O port `port`.
pub const fn eccb_ctl_io_byte(port: u32, read: bool) -> u64 {
    let dir = if read { ECCB_CTL_READ } else { 0 };
    dir | ppc_field(ECCB_CTL_DATASZ, 1) | ppc_field(ECCB_CTL_ADDR, (LPC_IO_OPB_ADDR + port) as u64)
}

/// ISA I/O through one chip's LPC controller.
#[derive(Clone, Copy, Debug)]
pub struct LpcIo<I: RegisterIo> {
    io: I,
    xscom_base: u64,
    eccb_pcba: u32,
}

impl<I: RegisterIo> LpcIo<I> {
    /// The LPC controller whose ECCB block is at PCBA `eccb_pcba` of the
    /// POWER8 XSCOM window at `xscom_base`.
    pub const fn new(io: I, xscom_base: u64, eccb_pcba: u32) -> Self {
        LpcIo {
            io,
            xscom_base,
            eccb_pcba,
        }
    }

    fn reg(&self, r: u32) -> u64 {
        p8_xscom_addr(self.xscom_base, self.eccb_pcba + r)
    }

    fn wait(&self) -> Result<u64, Timeout> {
        for _ in 0..POLL_LIMIT {
            let stat = self.io.read_be64(self.reg(ECCB_STAT));
            if stat & ECCB_STAT_OP_DONE != 0 {
                return Ok(stat);
            }
        }
        Err(Timeout)
    }

    /// Stores `value` to ISA I/O port `port`.
    pub fn outb(&self, port: u32, value: u8) -> Result<(), Timeout> {
        self.io
            .write_be64(self.reg(ECCB_DATA), (value as u64) << 56);
        self.io
            .write_be64(self.reg(ECCB_CTL), eccb_ctl_io_byte(port, false));
        self.wait().map(|_| ())
    }

    /// Loads ISA I/O port `port`.
    pub fn inb(&self, port: u32) -> Result<u8, Timeout> {
        self.io
            .write_be64(self.reg(ECCB_CTL), eccb_ctl_io_byte(port, true));
        let stat = self.wait()?;
        let data = (stat & ECCB_STAT_RD_DATA) >> ECCB_STAT_RD_DATA.trailing_zeros();
        Ok((data >> 24) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnv_iommu::mmio::fake::{Op, RecordingIo};

    const XSCOM: u64 = 0x0003_fc00_0000_0000;
    const LPC: u32 = 0xb0020;

    /// An ECCB that completes each access at once and answers reads of
    /// port 0x3fd (a UART's LSR) with 0x60.
    fn eccb() -> RecordingIo {
        let io = RecordingIo::new();
        let ctl = p8_xscom_addr(XSCOM, LPC + ECCB_CTL);
        let stat = p8_xscom_addr(XSCOM, LPC + ECCB_STAT);
        io.on_write(Box::new(move |r, a| {
            if a.op == Op::Write && a.addr == ctl {
                let data = if a.value & ECCB_CTL_READ != 0 {
                    0x60u64 << 24
                } else {
                    0
                };
                r.insert(stat, ECCB_STAT_OP_DONE | data << 26);
            }
        }));
        io
    }

    #[test]
    fn store_is_data_then_control_then_status() {
        let io = eccb();
        LpcIo::new(&io, XSCOM, LPC).outb(0x3f8, b'A').unwrap();
        // PCBA 0xb0023: (0xb0020 << 4) | (3 << 3) in the XSCOM window.
        assert_eq!(
            io.writes(),
            [
                (0x0003_fc00_00b0_0218, 0x4100_0000_0000_0000),
                (0x0003_fc00_00b0_0200, 0x0100_0000_d001_03f8),
            ]
        );
        assert_eq!(io.log()[2].addr, 0x0003_fc00_00b0_0210);
    }

    #[test]
    fn load_returns_the_first_data_byte() {
        let io = eccb();
        assert_eq!(LpcIo::new(&io, XSCOM, LPC).inb(0x3fd).unwrap(), 0x60);
        assert_eq!(io.writes()[0].1, 0x0101_0000_d001_03fd);
    }

    #[test]
    fn a_silent_controller_times_out() {
        let io = RecordingIo::new();
        assert_eq!(LpcIo::new(&io, XSCOM, LPC).outb(0x3f8, 0), Err(Timeout));
    }
}
