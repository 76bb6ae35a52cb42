//! The device tree a guest partition boots with: its memory, the RTAS
//! tokens, one logical PHB with the default DMA window (LIOBN) and the DDW
//! tokens, and the device passed through to it. The shape follows what a
//! PAPR guest expects (the same properties QEMU's `pseries` provides), so
//! one guest program runs on either hypervisor.

use alloc::vec::Vec;
use vm_fdt::{Error, FdtWriter};

/// RTAS tokens this hypervisor answers (any numbers would do: the guest
/// reads them from the device tree).
pub mod rtas_token {
    /// `ibm,read-pci-config`.
    pub const READ_PCI_CONFIG: u32 = 0x5001;
    /// `ibm,write-pci-config`.
    pub const WRITE_PCI_CONFIG: u32 = 0x5002;
    /// `ibm,query-pe-dma-window`.
    pub const QUERY_PE_DMA_WINDOW: u32 = 0x5010;
    /// `ibm,create-pe-dma-window`.
    pub const CREATE_PE_DMA_WINDOW: u32 = 0x5011;
    /// `ibm,remove-pe-dma-window`.
    pub const REMOVE_PE_DMA_WINDOW: u32 = 0x5012;
    /// `ibm,reset-pe-dma-window`.
    pub const RESET_PE_DMA_WINDOW: u32 = 0x5013;
}

/// A PCI function passed through to the guest, with its assigned BAR0.
#[derive(Clone, Copy, Debug)]
pub struct PassedDevice {
    /// Bus number (as the guest sees it: the real one).
    pub bus: u8,
    /// Device and function.
    pub devfn: u8,
    /// PCI vendor ID.
    pub vendor: u16,
    /// PCI device ID.
    pub device: u16,
    /// BAR0 PCI address and size (32-bit memory).
    pub bar0: (u64, u64),
}

/// Everything the guest's device tree says.
#[derive(Clone, Copy, Debug)]
pub struct GuestTopology {
    /// Guest RAM at logical 0.
    pub ram_size: u64,
    /// The logical PHB's BUID (its `reg`).
    pub buid: u64,
    /// 32-bit MMIO window: PCI address, CPU address, size.
    pub mmio32: (u64, u64, u64),
    /// LIOBN of the default DMA window.
    pub liobn: u32,
    /// Default DMA window: bus start and size.
    pub window: (u64, u64),
    /// The passed-through device.
    pub device: PassedDevice,
}

impl GuestTopology {
    /// Serializes the device tree.
    pub fn build(&self) -> Result<Vec<u8>, Error> {
        let mut w = FdtWriter::new()?;
        let root = w.begin_node("")?;
        w.property_string("compatible", "pnv-iommu,papr-guest")?;
        w.property_string("model", "pnv-iommu guest partition")?;
        w.property_u32("#address-cells", 2)?;
        w.property_u32("#size-cells", 2)?;

        let chosen = w.begin_node("chosen")?;
        w.end_node(chosen)?;

        let mem = w.begin_node("memory@0")?;
        w.property_string("device_type", "memory")?;
        w.property_array_u64("reg", &[0, self.ram_size])?;
        w.end_node(mem)?;

        let rtas = w.begin_node("rtas")?;
        use rtas_token::*;
        w.property_u32("ibm,read-pci-config", READ_PCI_CONFIG)?;
        w.property_u32("ibm,write-pci-config", WRITE_PCI_CONFIG)?;
        w.property_u32("ibm,query-pe-dma-window", QUERY_PE_DMA_WINDOW)?;
        w.property_u32("ibm,create-pe-dma-window", CREATE_PE_DMA_WINDOW)?;
        w.property_u32("ibm,remove-pe-dma-window", REMOVE_PE_DMA_WINDOW)?;
        w.property_u32("ibm,reset-pe-dma-window", RESET_PE_DMA_WINDOW)?;
        w.end_node(rtas)?;

        let pci = logical_phb(
            &mut w,
            &LogicalPhb {
                buid: self.buid,
                bus_range: None,
                mmio32: self.mmio32,
                liobn: self.liobn,
                window: self.window,
            },
        )?;

        let d = self.device;
        let dev = w.begin_node(&alloc::format!("pci@{:x}", d.devfn >> 3))?;
        let cfg = (d.bus as u32) << 16 | (d.devfn as u32) << 8;
        w.property_u32("vendor-id", d.vendor as u32)?;
        w.property_u32("device-id", d.device as u32)?;
        w.property_array_u32(
            "reg",
            &[cfg, 0, 0, 0, 0, 0x0200_0010 | cfg, 0, 0, 0, d.bar0.1 as u32],
        )?;
        w.property_array_u32(
            "assigned-addresses",
            &[0x8200_0010 | cfg, 0, d.bar0.0 as u32, 0, d.bar0.1 as u32],
        )?;
        w.end_node(dev)?;
        w.end_node(pci)?;
        w.end_node(root)?;
        w.finish()
    }
}

/// BUID of a guest's one logical PHB (the node's `reg`, and what RTAS
/// PCI-config and DDW calls name it by).
pub const LOGICAL_PHB_BUID: u64 = 0x0800_0000_2000_0000;

/// What a guest's logical PHB node says about its PHB.
pub struct LogicalPhb {
    /// The PHB's BUID (the node's `reg`).
    pub buid: u64,
    /// The one bus behind it, if the node names it (`bus-range`).
    pub bus_range: Option<u8>,
    /// The 32-bit MMIO window: PCI address, CPU (guest) address, size.
    pub mmio32: (u64, u64, u64),
    /// LIOBN of the default DMA window.
    pub liobn: u32,
    /// The default DMA window: bus start, size.
    pub window: (u64, u64),
}

/// Opens the node of a logical PHB (`IBM,Logical_PHB`) and writes what every
/// guest needs of it: addressing, the MMIO window, the default DMA window and
/// the DDW calls and extensions this hypervisor serves. The caller adds its
/// own properties and children, then ends the node it returns.
pub fn logical_phb(w: &mut FdtWriter, phb: &LogicalPhb) -> Result<vm_fdt::FdtWriterNode, Error> {
    use rtas_token::*;
    let node = w.begin_node(&alloc::format!("pci@{:x}", phb.buid))?;
    w.property_string("device_type", "pci")?;
    w.property_string("compatible", "IBM,Logical_PHB")?;
    w.property_u32("#address-cells", 3)?;
    w.property_u32("#size-cells", 2)?;
    w.property_array_u64("reg", &[phb.buid, 0])?;
    if let Some(bus) = phb.bus_range {
        w.property_array_u32("bus-range", &[bus as u32, bus as u32])?;
    }
    let (pci_addr, cpu, size) = phb.mmio32;
    w.property_array_u32(
        "ranges",
        &[
            0x0200_0000,
            0,
            pci_addr as u32,
            (cpu >> 32) as u32,
            cpu as u32,
            (size >> 32) as u32,
            size as u32,
        ],
    )?;
    w.property_u32("ibm,#dma-address-cells", 2)?;
    w.property_u32("ibm,#dma-size-cells", 2)?;
    let (start, len) = phb.window;
    w.property_array_u32(
        "ibm,dma-window",
        &[
            phb.liobn,
            (start >> 32) as u32,
            start as u32,
            (len >> 32) as u32,
            len as u32,
        ],
    )?;
    w.property_array_u32(
        "ibm,ddw-applicable",
        &[
            QUERY_PE_DMA_WINDOW,
            CREATE_PE_DMA_WINDOW,
            REMOVE_PE_DMA_WINDOW,
        ],
    )?;
    w.property_array_u32(
        "ibm,ddw-extensions",
        &pnv_iommu::papr::ddw_extensions(RESET_PE_DMA_WINDOW),
    )?;
    Ok(node)
}
