//! What the guest learns from its device tree: the partition's RAM, the PCI
//! host bridge (BUID, default DMA window, DDW tokens, 32-bit MMIO window),
//! the RTAS tokens, and an `edu` device if one is plugged in.
//!
//! Nothing here depends on which hypervisor made the tree. The PHB is the
//! first node with `device_type = "pci"` and an `ibm,dma-window`; like on
//! pseries it is expected to be a child of the root (its `reg` and the
//! parent side of its `ranges` use the root's `#address-cells`).

use fdt::Fdt;
use fdt::node::FdtNode;

/// PCI vendor and device id of QEMU's `edu`.
pub const EDU_VENDOR: u32 = 0x1234;
/// PCI device id of `edu`.
pub const EDU_DEVICE: u32 = 0x11e8;

/// Why the device tree is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtError {
    /// r3 did not point at a valid device tree.
    BadBlob,
    /// No `device_type = "memory"` node with a usable `reg`.
    NoMemory,
    /// No PCI host bridge with an `ibm,dma-window`.
    NoPhb,
    /// A property is missing or too short.
    BadProperty(&'static str),
}

/// The dynamic DMA window RTAS tokens of a PHB.
#[derive(Clone, Copy, Debug)]
pub struct DdwTokens {
    /// `ibm,query-pe-dma-window`.
    pub query: u32,
    /// `ibm,create-pe-dma-window`.
    pub create: u32,
    /// `ibm,remove-pe-dma-window`.
    pub remove: u32,
    /// `ibm,reset-pe-dma-window` (extension 1), if offered.
    pub reset: Option<u32>,
    /// Query-output extension (extension 2): 1 means 6 outputs with a
    /// 64-bit largest block.
    pub query_out_ext: u32,
}

/// A PCI address range and where the CPU sees it.
#[derive(Clone, Copy, Debug)]
pub struct MmioWindow {
    /// PCI bus address of the window.
    pub pci: u64,
    /// Guest real (CPU) address of the window.
    pub cpu: u64,
    /// Size in bytes.
    pub size: u64,
}

/// The `edu` device under the PHB.
#[derive(Clone, Copy, Debug)]
pub struct EduNode {
    /// RTAS configuration address (bus << 16 | devfn << 8).
    pub config_addr: u32,
    /// BAR0's CPU address, when the tree's `assigned-addresses` gives it.
    pub bar0: Option<u64>,
}

/// The PCI host bridge the suite exercises.
#[derive(Clone, Copy, Debug)]
pub struct Phb {
    /// Bus unit id (from `reg`), the PHB's name in RTAS calls.
    pub buid: u64,
    /// LIOBN of the default DMA window.
    pub liobn: u32,
    /// Bus address of the default DMA window.
    pub window_start: u64,
    /// Size of the default DMA window.
    pub window_size: u64,
    /// DDW tokens, when the PHB offers DDW.
    pub ddw: Option<DdwTokens>,
    /// The 32-bit memory window.
    pub mmio32: Option<MmioWindow>,
    /// Configuration address of the first device under the PHB (used as the
    /// PE address in DDW calls when there is no `edu`).
    pub first_device: Option<u32>,
}

/// Everything the suite uses.
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// End of the partition's RAM (highest end of any memory range).
    pub ram_end: u64,
    /// Timebase frequency in Hz.
    pub timebase_hz: u64,
    /// The PCI host bridge.
    pub phb: Phb,
    /// `ibm,read-pci-config`.
    pub read_pci_config: Option<u32>,
    /// `ibm,write-pci-config`.
    pub write_pci_config: Option<u32>,
    /// The `edu` device, if any.
    pub edu: Option<EduNode>,
}

/// Timebase assumed when the tree gives none (POWER: 512 MHz).
const DEFAULT_TIMEBASE_HZ: u64 = 512_000_000;

/// Reads the tree at guest real `addr` (from r3).
pub fn parse(addr: u64) -> Result<Platform, DtError> {
    let blob = blob(addr).ok_or(DtError::BadBlob)?;
    let fdt = Fdt::new(blob).map_err(|_| DtError::BadBlob)?;
    let root = fdt.root().cell_sizes();
    let (ac, sc) = (root.address_cells, root.size_cells);

    let mut ram_end = 0u64;
    for node in fdt.all_nodes() {
        if prop_str(node, "device_type") != Some("memory") {
            continue;
        }
        let Some(reg) = node.property("reg") else {
            continue;
        };
        for entry in reg.value.chunks_exact((ac + sc) * 4) {
            let base = cells(&entry[..ac * 4]);
            let size = cells(&entry[ac * 4..]);
            ram_end = ram_end.max(base.saturating_add(size));
        }
    }
    if ram_end == 0 {
        return Err(DtError::NoMemory);
    }

    let timebase_hz = fdt
        .all_nodes()
        .find(|n| prop_str(*n, "device_type") == Some("cpu"))
        .and_then(|n| n.property("timebase-frequency"))
        .map(|p| cells(p.value))
        .filter(|&hz| hz != 0)
        .unwrap_or(DEFAULT_TIMEBASE_HZ);

    let phb_node = fdt
        .all_nodes()
        .find(|n| {
            prop_str(*n, "device_type") == Some("pci") && n.property("ibm,dma-window").is_some()
        })
        .ok_or(DtError::NoPhb)?;
    let phb = parse_phb(phb_node, ac)?;

    let rtas = fdt.find_node("/rtas");
    let token = |name: &str| {
        rtas.and_then(|n| n.property(name))
            .map(|p| cells(p.value) as u32)
    };
    let edu = phb_node.children().find_map(|c| parse_edu(c, phb.mmio32));

    Ok(Platform {
        ram_end,
        timebase_hz,
        phb,
        read_pci_config: token("ibm,read-pci-config"),
        write_pci_config: token("ibm,write-pci-config"),
        edu,
    })
}

fn parse_phb(node: FdtNode, root_ac: usize) -> Result<Phb, DtError> {
    let reg = node.property("reg").ok_or(DtError::BadProperty("reg"))?;
    let buid = reg
        .value
        .get(..root_ac * 4)
        .map(cells)
        .ok_or(DtError::BadProperty("reg"))?;

    let dac = prop_u32(node, "ibm,#dma-address-cells").unwrap_or(2) as usize;
    let dsc = prop_u32(node, "ibm,#dma-size-cells").unwrap_or(2) as usize;
    let win = node
        .property("ibm,dma-window")
        .map(|p| p.value)
        .filter(|v| v.len() >= (1 + dac + dsc) * 4)
        .ok_or(DtError::BadProperty("ibm,dma-window"))?;
    let liobn = cells(&win[..4]) as u32;
    let window_start = cells(&win[4..4 + dac * 4]);
    let window_size = cells(&win[4 + dac * 4..4 + (dac + dsc) * 4]);

    let ddw = node.property("ibm,ddw-applicable").and_then(|p| {
        let t = words(p.value);
        let ext = node.property("ibm,ddw-extensions").map(|p| words(p.value));
        let ext_at = |i: usize| {
            ext.and_then(|e| {
                let count = e.get(0)?;
                (i <= count as usize).then(|| e.get(i)).flatten()
            })
        };
        Some(DdwTokens {
            query: t.get(0)?,
            create: t.get(1)?,
            remove: t.get(2)?,
            reset: ext_at(1),
            query_out_ext: ext_at(2).unwrap_or(0),
        })
    });

    let pac = node.cell_sizes().address_cells.max(3);
    let psc = node.cell_sizes().size_cells;
    let mmio32 = node.property("ranges").and_then(|p| {
        p.value
            .chunks_exact((pac + root_ac + psc) * 4)
            .find(|e| space_code(cells(&e[..4]) as u32) == SPACE_MEM32)
            .map(|e| MmioWindow {
                pci: cells(&e[4..pac * 4]),
                cpu: cells(&e[pac * 4..(pac + root_ac) * 4]),
                size: cells(&e[(pac + root_ac) * 4..]),
            })
    });
    let first_device = node.children().find_map(|c| {
        c.property("reg")
            .map(|r| config_addr(cells(&r.value[..4.min(r.value.len())]) as u32))
    });

    Ok(Phb {
        buid,
        liobn,
        window_start,
        window_size,
        ddw,
        mmio32,
        first_device,
    })
}

/// PCI address space codes (bits 25..24 of phys.hi).
const SPACE_MEM32: u32 = 2;
/// BAR0's configuration register.
const BAR0: u32 = 0x10;

fn space_code(phys_hi: u32) -> u32 {
    (phys_hi >> 24) & 3
}

/// The RTAS configuration address (bus, devfn) of a phys.hi cell.
fn config_addr(phys_hi: u32) -> u32 {
    phys_hi & 0x00ff_ff00
}

fn parse_edu(node: FdtNode, mmio32: Option<MmioWindow>) -> Option<EduNode> {
    if prop_u32(node, "vendor-id")? != EDU_VENDOR || prop_u32(node, "device-id")? != EDU_DEVICE {
        return None;
    }
    let reg = node.property("reg")?;
    let config = config_addr(cells(reg.value.get(..4)?) as u32);
    // assigned-addresses: (phys.hi, phys.mid, phys.lo, size.hi, size.lo).
    let bar0 = node.property("assigned-addresses").and_then(|p| {
        let e = p.value.chunks_exact(20).find(|e| {
            cells(&e[..4]) as u32 & 0xff == BAR0 && space_code(cells(&e[..4]) as u32) == SPACE_MEM32
        })?;
        let pci = cells(&e[4..12]);
        let w = mmio32?;
        let off = pci.checked_sub(w.pci).filter(|&o| o < w.size)?;
        w.cpu.checked_add(off)
    });
    Some(EduNode {
        config_addr: config,
        bar0,
    })
}

fn prop_str<'a>(node: FdtNode<'_, 'a>, name: &str) -> Option<&'a str> {
    node.property(name).and_then(|p| p.as_str())
}

fn prop_u32(node: FdtNode, name: &str) -> Option<u32> {
    node.property(name)
        .and_then(|p| p.value.get(..4))
        .map(|v| cells(v) as u32)
}

/// Big-endian cells as one number (the last 8 bytes count).
fn cells(bytes: &[u8]) -> u64 {
    bytes.chunks_exact(4).fold(0u64, |acc, c| {
        (acc << 32) | u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    })
}

/// A property read as a list of u32 cells.
#[derive(Clone, Copy)]
struct Words<'a>(&'a [u8]);

fn words(bytes: &[u8]) -> Words<'_> {
    Words(bytes)
}

impl Words<'_> {
    fn get(&self, i: usize) -> Option<u32> {
        let c = self.0.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// The device tree blob at `addr`, if its header is sane.
fn blob(addr: u64) -> Option<&'static [u8]> {
    // SAFETY: the hypervisor passes the device tree's guest real address in
    // r3; the guest runs in real mode, so it is readable at that address. It
    // is at least 8 bytes (`blob_at` reads the header first), never written,
    // and the length comes from the header, bounded by FDT_MAX.
    unsafe { pnv_rt::fdt::blob_at(addr) }
}
