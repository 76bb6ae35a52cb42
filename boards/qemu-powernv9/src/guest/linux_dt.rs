//! The device tree a Linux (pseries) guest boots with when it is entered
//! directly, with no Open Firmware: everything DESIGN.md §13 found Linux
//! needs, each item there because its absence broke a boot.
//!
//! - root `device_type = "chrp"` (Linux's pseries platform probe);
//! - `/chosen`: boot arguments, initrd, the console, and the platform's
//!   answer to client-architecture-support, `ibm,architecture-vec-5`, with
//!   radix MMU (byte 24) and guest `tlbie` (byte 26) — else Linux uses the
//!   hash MMU or stops;
//! - `/memory@0`;
//! - one cpu: timebase, caches, `ibm,ppc-interrupt-server#s`, `ibm,vmx = 2`
//!   (VSX; else busybox dies at /init) and `ibm,pa-features` (Linux clears
//!   every feature of its table this property does not set; radix is byte
//!   40); no `ibm,dec-bits` (a 32-bit decrementer);
//! - `/rtas`: the stub's address and size, one property per token, and
//!   `ibm,hypertas-functions` (its presence makes Linux a partition;
//!   `hcall-set-mode` lets it ask for little-endian interrupts);
//! - `/vdevice/vty@71000000` (`hvterm1`, no interrupts: polled);
//! - an XICS presentation controller node, needed even with one CPU.

use crate::guest::devtree::{LogicalPhb, logical_phb};
use alloc::vec::Vec;
use vm_fdt::{Error, FdtReserveEntry, FdtWriter};

/// Path of the console node (also `/chosen`'s stdout).
pub const VTY_PATH: &str = "/vdevice/vty@71000000";
/// Unit address (`reg`) of the console: Linux passes it as the terminal
/// number (r4) of H_PUT_TERM_CHAR / H_GET_TERM_CHAR.
pub const VTY_REG: u32 = 0x7100_0000;
/// Timebase frequency the guest's device tree gives (the host's,
/// [`pnv_rt::spr::TIMEBASE_HZ`]).
pub const TIMEBASE_HZ: u32 = pnv_rt::spr::TIMEBASE_HZ as u32;

/// RTAS tokens the hypervisor answers for a Linux guest (the PCI, DDW and
/// XICS ones only when a device is passed through).
pub mod rtas_token {
    pub use crate::guest::devtree::rtas_token::{
        CREATE_PE_DMA_WINDOW, QUERY_PE_DMA_WINDOW, READ_PCI_CONFIG, REMOVE_PE_DMA_WINDOW,
        RESET_PE_DMA_WINDOW, WRITE_PCI_CONFIG,
    };
    /// `ibm,change-msi`.
    pub const CHANGE_MSI: u32 = 0x6010;
    /// `ibm,query-interrupt-source-number`.
    pub const QUERY_INTERRUPT_SOURCE_NUMBER: u32 = 0x6011;
    /// `ibm,set-xive`.
    pub const SET_XIVE: u32 = 0x6012;
    /// `ibm,get-xive`.
    pub const GET_XIVE: u32 = 0x6013;
    /// `ibm,int-on`.
    pub const INT_ON: u32 = 0x6014;
    /// `ibm,int-off`.
    pub const INT_OFF: u32 = 0x6015;
    /// `power-off`.
    pub const POWER_OFF: u32 = 0x6001;
    /// `ibm,os-term` (Linux calls it on panic).
    pub const OS_TERM: u32 = 0x6002;
    /// `ibm,extended-os-term`: never called; its presence tells Linux that
    /// `ibm,os-term` returns, without which Linux does not call it.
    pub const EXTENDED_OS_TERM: u32 = 0x6003;
}

/// `ibm,architecture-vec-5` bytes Linux reads (index = byte number).
const OV5_MMU_BYTE: usize = 24;
const OV5_MMU_RADIX: u8 = 0x40;
const OV5_GTSE_BYTE: usize = 26;
const OV5_GTSE: u8 = 0x40;
const OV5_LEN: usize = 32;

/// `ibm,pa-features`: a 2-byte header (length, type 0), then attribute
/// bytes. The bits Linux reads (bit 0 = 0x80 of a byte):
/// byte 0: MMU 0x80, FPU 0x40, CTRL register 0x10, no-execute 0x02;
/// byte 1: DSISR set on alignment 0x40 (else Linux assumes it is not),
/// cache-inhibited large pages 0x20; byte 5: little-endian 0x80;
/// byte 22 (transactional memory) stays 0; byte 40: radix MMU 0x80.
fn pa_features() -> [u8; 68] {
    let mut pa = [0u8; 68];
    pa[0] = 66;
    pa[1] = 0;
    let attr = &mut pa[2..];
    attr[0] = 0x80 | 0x40 | 0x10 | 0x02;
    attr[1] = 0x40 | 0x20;
    attr[5] = 0x80;
    attr[40] = 0x80;
    pa
}

/// A PCI function passed through on a logical PHB (the guest sees the
/// host's bus numbers and PCI addresses; its BAR is mapped at the host CPU
/// address).
#[derive(Clone, Copy, Debug)]
pub struct LinuxPci {
    /// The logical PHB's BUID (its `reg`).
    pub buid: u64,
    /// 32-bit memory window: PCI address, CPU (guest real) address, size.
    pub mmio32: (u64, u64, u64),
    /// LIOBN and bus range of the default DMA window.
    pub liobn: u32,
    /// Default window as the guest is told: start and size.
    pub window: (u64, u64),
    /// Bus and device/function.
    pub bus: u8,
    /// Device and function.
    pub devfn: u8,
    /// Vendor and device IDs.
    pub ids: (u16, u16),
    /// Class code (class, subclass, programming interface).
    pub class: u32,
    /// BAR0: PCI address, size, 64-bit.
    pub bar0: (u64, u64, bool),
    /// MSI-X vectors the device may ask for.
    pub msix: u32,
}

/// Everything the Linux guest's device tree says.
pub struct LinuxTopology<'a> {
    /// Guest RAM at logical 0.
    pub ram_size: u64,
    /// Kernel command line.
    pub bootargs: &'a str,
    /// Initrd, guest real `[start, end)` (empty: none).
    pub initrd: (u64, u64),
    /// RTAS stub: guest real base and size.
    pub rtas: (u64, u64),
    /// More guest memory the guest must leave alone: base and size.
    pub reserved: Option<(u64, u64)>,
    /// A passed-through PCI function.
    pub pci: Option<LinuxPci>,
}

impl LinuxTopology<'_> {
    /// Serializes the device tree; the RTAS stub is in its reserve map.
    pub fn build(&self) -> Result<Vec<u8>, Error> {
        let (rtas_base, rtas_size) = self.rtas;
        let mut reserve = alloc::vec![FdtReserveEntry::new(rtas_base, rtas_size)?];
        if let Some((base, size)) = self.reserved {
            reserve.push(FdtReserveEntry::new(base, size)?);
        }
        let mut w = FdtWriter::new_with_mem_reserv(&reserve)?;
        let root = w.begin_node("")?;
        w.property_string("device_type", "chrp")?;
        w.property_string("compatible", "pnv-iommu,pseries")?;
        w.property_string("model", "pnv-iommu guest partition")?;
        w.property_u32("#address-cells", 2)?;
        w.property_u32("#size-cells", 2)?;

        let chosen = w.begin_node("chosen")?;
        w.property_string("bootargs", self.bootargs)?;
        if self.initrd.1 > self.initrd.0 {
            w.property_u64("linux,initrd-start", self.initrd.0)?;
            w.property_u64("linux,initrd-end", self.initrd.1)?;
        }
        w.property_string("linux,stdout-path", VTY_PATH)?;
        w.property_string("stdout-path", VTY_PATH)?;
        let mut ov5 = [0u8; OV5_LEN];
        ov5[OV5_MMU_BYTE] = OV5_MMU_RADIX;
        ov5[OV5_GTSE_BYTE] = OV5_GTSE;
        w.property("ibm,architecture-vec-5", &ov5)?;
        if self.pci.is_some() {
            // The hypervisor assigned the BARs: Linux keeps them.
            w.property_u32("linux,pci-probe-only", 1)?;
        }
        w.end_node(chosen)?;

        let mem = w.begin_node("memory@0")?;
        w.property_string("device_type", "memory")?;
        w.property_array_u64("reg", &[0, self.ram_size])?;
        w.end_node(mem)?;

        self.cpus(&mut w)?;

        let vdevice = w.begin_node("vdevice")?;
        w.property_string("device_type", "vdevice")?;
        w.property_string("compatible", "IBM,vdevice")?;
        w.property_u32("#address-cells", 1)?;
        w.property_u32("#size-cells", 0)?;
        let vty = w.begin_node(&alloc::format!("vty@{:x}", VTY_REG))?;
        w.property_string("name", "vty")?;
        w.property_string("device_type", "serial")?;
        w.property_string("compatible", "hvterm1")?;
        w.property_u32("reg", VTY_REG)?;
        w.end_node(vty)?;
        w.end_node(vdevice)?;

        let xics = w.begin_node("interrupt-controller")?;
        w.property_string("device_type", "PowerPC-External-Interrupt-Presentation")?;
        w.property_string("compatible", "IBM,ppc-xicp")?;
        w.property_null("interrupt-controller")?;
        w.property_array_u32("ibm,interrupt-server-ranges", &[0, 1])?;
        w.property_u32("#interrupt-cells", 2)?;
        w.property_phandle(1)?;
        w.end_node(xics)?;

        if let Some(pci) = &self.pci {
            pci_node(&mut w, pci)?;
        }

        // Last, so that its last property name is the last string of the
        // blob (see `LONG_NAME`).
        self.rtas(&mut w)?;
        w.end_node(root)?;
        let mut blob = w.finish()?;
        if self.pci.is_some() {
            lengthen_last_name(&mut blob)?;
        }
        Ok(blob)
    }

    fn cpus(&self, w: &mut FdtWriter) -> Result<(), Error> {
        let cpus = w.begin_node("cpus")?;
        w.property_u32("#address-cells", 1)?;
        w.property_u32("#size-cells", 0)?;
        let cpu = w.begin_node("PowerPC,POWER9@0")?;
        w.property_string("device_type", "cpu")?;
        w.property_u32("reg", 0)?;
        w.property_array_u32("ibm,ppc-interrupt-server#s", &[0])?;
        w.property_u32("timebase-frequency", TIMEBASE_HZ)?;
        w.property_u32("clock-frequency", 1_000_000_000)?;
        // POWER9: 128-byte cache blocks, 32 KiB L1 caches.
        for name in [
            "d-cache-block-size",
            "i-cache-block-size",
            "d-cache-line-size",
            "i-cache-line-size",
        ] {
            w.property_u32(name, 128)?;
        }
        w.property_u32("d-cache-size", 0x8000)?;
        w.property_u32("i-cache-size", 0x8000)?;
        w.property_u32("ibm,vmx", 2)?;
        w.property_u32("ibm,dfp", 1)?;
        w.property("ibm,pa-features", &pa_features())?;
        w.property_string("status", "okay")?;
        w.end_node(cpu)?;
        w.end_node(cpus)
    }

    fn rtas(&self, w: &mut FdtWriter) -> Result<(), Error> {
        let (base, size) = self.rtas;
        let rtas = w.begin_node("rtas")?;
        w.property_u32("linux,rtas-base", base as u32)?;
        w.property_u32("linux,rtas-entry", base as u32)?;
        w.property_u32("rtas-size", size as u32)?;
        let mut hcalls = alloc::vec!["hcall-term".into(), "hcall-set-mode".into()];
        if self.pci.is_some() {
            hcalls.extend(["hcall-tce".into(), "hcall-multi-tce".into()]);
            use rtas_token::*;
            for (name, token) in [
                ("ibm,read-pci-config", READ_PCI_CONFIG),
                ("ibm,write-pci-config", WRITE_PCI_CONFIG),
                ("ibm,query-pe-dma-window", QUERY_PE_DMA_WINDOW),
                ("ibm,create-pe-dma-window", CREATE_PE_DMA_WINDOW),
                ("ibm,remove-pe-dma-window", REMOVE_PE_DMA_WINDOW),
                ("ibm,reset-pe-dma-window", RESET_PE_DMA_WINDOW),
                ("ibm,change-msi", CHANGE_MSI),
                ("ibm,set-xive", SET_XIVE),
                ("ibm,get-xive", GET_XIVE),
                ("ibm,int-on", INT_ON),
                ("ibm,int-off", INT_OFF),
            ] {
                w.property_u32(name, token)?;
            }
        }
        w.property_string_list("ibm,hypertas-functions", hcalls)?;
        w.property_u32("power-off", rtas_token::POWER_OFF)?;
        w.property_u32("ibm,os-term", rtas_token::OS_TERM)?;
        w.property_u32("ibm,extended-os-term", rtas_token::EXTENDED_OS_TERM)?;
        if self.pci.is_some() {
            // Written under a 31-byte stand-in name, lengthened after
            // `finish` (see `LONG_NAME`): it must stay the last property.
            w.property_u32(LONG_NAME_SHORT, rtas_token::QUERY_INTERRUPT_SOURCE_NUMBER)?;
        }
        w.end_node(rtas)
    }
}

/// PAPR's `ibm,query-interrupt-source-number` is 33 bytes long; vm-fdt
/// keeps to the 31-byte limit of the device tree specification, which
/// Linux's flattened-tree code does not enforce. The property is written
/// under this stand-in and, being the blob's last string, lengthened in
/// place.
const LONG_NAME: &str = "ibm,query-interrupt-source-number";
const LONG_NAME_SHORT: &str = "ibm,query-interrupt-source-numb";

/// Replaces the blob's last string, [`LONG_NAME_SHORT`], by [`LONG_NAME`]
/// and fixes the header's sizes.
fn lengthen_last_name(blob: &mut Vec<u8>) -> Result<(), Error> {
    let be = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let (total, strings_off, strings_size) = (be(blob, 4), be(blob, 12), be(blob, 32));
    let end = (strings_off + strings_size) as usize;
    let short = LONG_NAME_SHORT.len() + 1;
    if end != blob.len() || total as usize != blob.len() || end < short {
        return Err(Error::InvalidString);
    }
    let at = end - short;
    if &blob[at..end - 1] != LONG_NAME_SHORT.as_bytes() || blob[end - 1] != 0 {
        return Err(Error::InvalidString);
    }
    blob.truncate(at);
    blob.extend_from_slice(LONG_NAME.as_bytes());
    blob.push(0);
    let grow = (LONG_NAME.len() - LONG_NAME_SHORT.len()) as u32;
    blob[4..8].copy_from_slice(&(total + grow).to_be_bytes());
    blob[32..36].copy_from_slice(&(strings_size + grow).to_be_bytes());
    Ok(())
}

/// The logical PHB and its one function.
fn pci_node(w: &mut FdtWriter, pci: &LinuxPci) -> Result<(), Error> {
    let phb = logical_phb(
        w,
        &LogicalPhb {
            buid: pci.buid,
            bus_range: Some(pci.bus),
            mmio32: pci.mmio32,
            liobn: pci.liobn,
            window: pci.window,
        },
    )?;
    // MSIs the PE may have in all (Linux creates no MSI domain without it).
    w.property_u32("ibm,pe-total-#msi", pci.msix)?;

    let dev = w.begin_node(&alloc::format!("pci@{:x}", pci.devfn >> 3))?;
    let cfg = (pci.bus as u32) << 16 | (pci.devfn as u32) << 8;
    w.property_u32("vendor-id", pci.ids.0 as u32)?;
    w.property_u32("device-id", pci.ids.1 as u32)?;
    w.property_u32("class-code", pci.class)?;
    w.property_u32("revision-id", 0)?;
    let (bar_pci, bar_size, is64) = pci.bar0;
    let space = if is64 { 0x0300_0010 } else { 0x0200_0010 };
    w.property_array_u32(
        "reg",
        &[
            cfg,
            0,
            0,
            0,
            0,
            space | cfg,
            0,
            0,
            (bar_size >> 32) as u32,
            bar_size as u32,
        ],
    )?;
    w.property_array_u32(
        "assigned-addresses",
        &[
            0x8000_0000 | space | cfg,
            (bar_pci >> 32) as u32,
            bar_pci as u32,
            (bar_size >> 32) as u32,
            bar_size as u32,
        ],
    )?;
    w.property_u32("ibm,req#msi-x", pci.msix)?;
    w.end_node(dev)?;
    w.end_node(phb)
}

/// The RTAS stub Linux calls (big-endian, 32-bit real mode): move the
/// argument buffer's address to r4, put H_RTAS in r3, `sc 1`, return.
pub const RTAS_STUB: [u32; 5] = [
    0x7c64_1b78, // mr r4, r3
    0x3c60_0000, // lis r3, 0
    0x6063_f000, // ori r3, r3, 0xf000 (H_RTAS)
    0x4400_0022, // sc 1
    0x4e80_0020, // blr
];
