//! The machine as the device tree describes it: memory, CPUs, chips, XSCOM,
//! PEC/PHB stacks and the console UART.
//!
//! QEMU's powernv device tree has no PHB nodes: only `pbcq` (PEC) nodes under
//! each chip's `xscom` node with `stack` children. Firmware chooses every PHB
//! address itself; this module only reports what is there.

use alloc::vec::Vec;
use fdt::Fdt;
use fdt::node::FdtNode;

/// Why the device tree could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopologyError {
    /// The blob is not a valid flattened device tree.
    BadBlob,
    /// A required node or property is missing or malformed.
    Missing(&'static str),
}

/// A range of physical memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRange {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

/// One CPU core node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Core {
    /// Chip the core is on.
    pub chip_id: u32,
    /// Processor ID register value of the first thread.
    pub pir: u32,
    /// Hardware threads (`ibm,ppc-interrupt-server#s` entries).
    pub threads: u32,
}

/// A PHB stack of a PEC: one PHB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhbStack {
    /// Stack number within its PEC.
    pub stack: u32,
    /// Global PHB index on the chip (`ibm,phb-index`).
    pub phb_index: u32,
}

/// A PCI Express controller (PEC, `pbcq` node) and its stacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pec {
    /// PEC index (`ibm,pec-index`).
    pub index: u32,
    /// XSCOM address (PCBA) of the nest register block.
    pub nest_base: u32,
    /// XSCOM address (PCBA) of the PCI register block.
    pub pci_base: u32,
    /// Stacks, sorted by stack number.
    pub stacks: Vec<PhbStack>,
}

/// Processor generation of a chip, from its XSCOM node's `compatible`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChipGeneration {
    /// POWER8 (`ibm,power8-xscom`): PHB3, one PHB per `pbcq` node.
    Power8,
    /// POWER9 (`ibm,power9-xscom`): PHB4, PECs with stacks.
    Power9,
    /// POWER10 (`ibm,power10-xscom`): PHB5, PECs with stacks.
    Power10,
}

/// One processor chip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chip {
    /// `ibm,chip-id`.
    pub chip_id: u32,
    /// Processor generation.
    pub generation: ChipGeneration,
    /// Physical address of the chip's XSCOM MMIO window.
    pub xscom_base: u64,
    /// PECs, sorted by index.
    pub pecs: Vec<Pec>,
}

/// A 16550-compatible UART.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uart {
    /// Physical address of register 0 (THR/RBR), translated through every
    /// `ranges` up to the root.
    pub base: u64,
    /// Input clock in Hz, if given.
    pub clock_hz: u32,
}

/// A 16550 on an LPC bus that only XSCOM reaches (POWER8: the `isa@…`
/// node under the XSCOM node has no `ranges`); its registers are ISA I/O
/// ports reached through the LPC controller's ECCB registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LpcUart {
    /// Physical address of the chip's XSCOM window.
    pub xscom_base: u64,
    /// PCBA of the LPC controller's ECCB block (the `isa` node's `reg`).
    pub eccb_pcba: u32,
    /// ISA I/O port of register 0 (THR/RBR).
    pub io_port: u32,
}

/// Everything the firmware needs to know about the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Machine model string.
    pub model: alloc::string::String,
    /// RAM ranges.
    pub memory: Vec<MemoryRange>,
    /// CPU cores.
    pub cores: Vec<Core>,
    /// Chips with their XSCOM and PHB stacks, sorted by chip id.
    pub chips: Vec<Chip>,
    /// The console UART.
    pub uart: Option<Uart>,
    /// The console UART when only XSCOM reaches it (POWER8).
    pub lpc_uart: Option<LpcUart>,
}

impl Topology {
    /// Reads the topology from a flattened device tree blob.
    pub fn from_fdt(blob: &[u8]) -> Result<Topology, TopologyError> {
        let fdt = Fdt::new(blob).map_err(|_| TopologyError::BadBlob)?;
        let root = fdt.find_node("/").ok_or(TopologyError::Missing("/"))?;

        let memory = fdt
            .all_nodes()
            .filter(|n| prop_str(n, "device_type") == Some("memory"))
            .flat_map(|n| read_reg(n))
            .map(|(base, size)| MemoryRange { base, size })
            .collect();

        let cores = fdt
            .all_nodes()
            .filter(|n| prop_str(n, "device_type") == Some("cpu"))
            .map(|n| Core {
                chip_id: prop_u32(&n, "ibm,chip-id").unwrap_or(0),
                pir: prop_u32(&n, "ibm,pir")
                    .or_else(|| prop_u32(&n, "reg"))
                    .unwrap_or(0),
                threads: n
                    .property("ibm,ppc-interrupt-server#s")
                    .map(|p| (p.value.len() / 4) as u32)
                    .unwrap_or(1),
            })
            .collect();

        let mut chips: Vec<Chip> = fdt
            .all_nodes()
            .filter(|n| is_compatible(n, "ibm,xscom"))
            .map(|x| chip_from_xscom(x))
            .collect::<Result<_, _>>()?;
        chips.sort_by_key(|c| c.chip_id);

        let uart = find_with_ancestors(root, &mut Vec::new(), &|n| is_compatible(n, "ns16550"))
            .and_then(|chain| {
                let (node, ancestors) = chain.split_last()?;
                let (first, _) = raw_reg_first(node)?;
                Some(Uart {
                    base: translate(first, ancestors)?,
                    clock_hz: prop_u32(node, "clock-frequency").unwrap_or(0),
                })
            });

        let lpc_uart = if uart.is_none() {
            lpc_uart(&fdt, &chips)
        } else {
            None
        };
        Ok(Topology {
            model: prop_str(&root, "model").unwrap_or("").into(),
            memory,
            cores,
            chips,
            uart,
            lpc_uart,
        })
    }

    /// Total RAM in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory.iter().map(|m| m.size).sum()
    }

    /// Total hardware threads.
    pub fn threads(&self) -> u32 {
        self.cores.iter().map(|c| c.threads).sum()
    }

    /// Every PHB stack as `(chip, pec, stack)`, in chip, PEC, stack order.
    pub fn phb_stacks(&self) -> impl Iterator<Item = (&Chip, &Pec, &PhbStack)> {
        self.chips.iter().flat_map(|c| {
            c.pecs
                .iter()
                .flat_map(move |p| p.stacks.iter().map(move |s| (c, p, s)))
        })
    }
}

/// The first 16550 under an `ibm,lpc` node that is a child of an XSCOM node.
fn lpc_uart(fdt: &Fdt, chips: &[Chip]) -> Option<LpcUart> {
    for xscom in fdt.all_nodes().filter(|n| is_compatible(n, "ibm,xscom")) {
        let chip_id = prop_u32(&xscom, "ibm,chip-id")?;
        let chip = chips.iter().find(|c| c.chip_id == chip_id)?;
        for lpc in xscom.children().filter(|n| is_compatible(n, "ibm,lpc")) {
            let eccb_pcba = *cells(&lpc, "reg")?.first()?;
            for uart in lpc.children().filter(|n| is_compatible(n, "ns16550")) {
                // ISA `reg`: <space (1 = I/O), address, size>.
                if let [1, port, ..] = cells(&uart, "reg")?.as_slice() {
                    return Some(LpcUart {
                        xscom_base: chip.xscom_base,
                        eccb_pcba,
                        io_port: *port,
                    });
                }
            }
        }
    }
    None
}

fn chip_generation(xscom: &FdtNode) -> Result<ChipGeneration, TopologyError> {
    if is_compatible(xscom, "ibm,power8-xscom") {
        Ok(ChipGeneration::Power8)
    } else if is_compatible(xscom, "ibm,power9-xscom") {
        Ok(ChipGeneration::Power9)
    } else if is_compatible(xscom, "ibm,power10-xscom") {
        Ok(ChipGeneration::Power10)
    } else {
        Err(TopologyError::Missing("ibm,powerN-xscom compatible"))
    }
}

fn chip_from_xscom(xscom: FdtNode) -> Result<Chip, TopologyError> {
    let chip_id = prop_u32(&xscom, "ibm,chip-id").ok_or(TopologyError::Missing("ibm,chip-id"))?;
    let generation = chip_generation(&xscom)?;
    let xscom_base = read_reg(xscom)
        .first()
        .map(|r| r.0)
        .ok_or(TopologyError::Missing("xscom reg"))?;
    let mut pecs = Vec::new();
    for pbcq in xscom.children().filter(|n| n.name.starts_with("pbcq@")) {
        let cells: Vec<u32> = cells(&pbcq, "reg").ok_or(TopologyError::Missing("pbcq reg"))?;
        let (nest_base, pci_base) = match cells.as_slice() {
            [nest, _, pci, ..] => (*nest, *pci),
            _ => return Err(TopologyError::Missing("pbcq reg")),
        };
        let mut stacks: Vec<PhbStack> = pbcq
            .children()
            .filter(|s| is_compatible(s, "ibm,power9-phb-stack") || s.name.starts_with("stack@"))
            .filter_map(|s| {
                Some(PhbStack {
                    stack: prop_u32(&s, "reg")?,
                    phb_index: prop_u32(&s, "ibm,phb-index")?,
                })
            })
            .collect();
        stacks.sort_by_key(|s| s.stack);
        let index = if generation == ChipGeneration::Power8 {
            // A POWER8 PBCQ is one PHB: no `ibm,pec-index`, no stack nodes;
            // it is recorded as a PEC numbered by its PHB with one stack.
            let phb_index =
                prop_u32(&pbcq, "ibm,phb-index").ok_or(TopologyError::Missing("ibm,phb-index"))?;
            stacks = alloc::vec![PhbStack {
                stack: 0,
                phb_index,
            }];
            phb_index
        } else {
            prop_u32(&pbcq, "ibm,pec-index").ok_or(TopologyError::Missing("ibm,pec-index"))?
        };
        pecs.push(Pec {
            index,
            nest_base,
            pci_base,
            stacks,
        });
    }
    pecs.sort_by_key(|p| p.index);
    Ok(Chip {
        chip_id,
        generation,
        xscom_base,
        pecs,
    })
}

/// `reg` of a node whose parent uses at most 2 address and 2 size cells.
fn read_reg(node: FdtNode) -> Vec<(u64, u64)> {
    node.reg()
        .into_iter()
        .flatten()
        .map(|r| (r.starting_address as u64, r.size.unwrap_or(0) as u64))
        .collect()
}

fn prop_str<'a>(node: &FdtNode<'_, 'a>, name: &str) -> Option<&'a str> {
    node.property(name)?.as_str()
}

fn prop_u32(node: &FdtNode, name: &str) -> Option<u32> {
    cells(node, name)?.first().copied()
}

fn cells(node: &FdtNode, name: &str) -> Option<Vec<u32>> {
    let value = node.property(name)?.value;
    if value.len() % 4 != 0 {
        return None;
    }
    Some(
        value
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

fn is_compatible(node: &FdtNode, want: &str) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| s == want))
}

/// Depth-first search returning the path from `node` to the first match.
fn find_with_ancestors<'b, 'a>(
    node: FdtNode<'b, 'a>,
    path: &mut Vec<FdtNode<'b, 'a>>,
    pred: &dyn Fn(&FdtNode) -> bool,
) -> Option<Vec<FdtNode<'b, 'a>>> {
    path.push(node);
    if pred(&node) {
        return Some(path.clone());
    }
    for child in node.children() {
        if let Some(found) = find_with_ancestors(child, path, pred) {
            return Some(found);
        }
    }
    path.pop();
    None
}

/// An address of up to four cells, as one number (cells concatenated).
type Addr = u128;

fn join(cells: &[u32]) -> Option<Addr> {
    if cells.len() > 4 {
        return None;
    }
    Some(cells.iter().fold(0, |acc, c| (acc << 32) | Addr::from(*c)))
}

/// First `reg` entry of `node` as (address, size), in the parent's cells.
fn raw_reg_first(node: &FdtNode) -> Option<(Addr, Addr)> {
    let reg = node.raw_reg()?.next()?;
    let to_cells = |b: &[u8]| -> Vec<u32> {
        b.chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    Some((join(&to_cells(reg.address))?, join(&to_cells(reg.size))?))
}

/// Translates `addr` (in the address space of the last ancestor's children)
/// through each ancestor's `ranges` up to the root.
fn translate(mut addr: Addr, ancestors: &[FdtNode]) -> Option<u64> {
    // ancestors[0] is the root; ancestors[i] holds `ranges` mapping its child
    // space into ancestors[i-1]'s child space.
    for i in (1..ancestors.len()).rev() {
        let bus = &ancestors[i];
        let parent = &ancestors[i - 1];
        let ranges = cells(bus, "ranges")?;
        if ranges.is_empty() {
            continue; // identity mapping
        }
        let child_cells = bus.cell_sizes().address_cells;
        let size_cells = bus.cell_sizes().size_cells;
        let parent_cells = parent.cell_sizes().address_cells;
        let entry = child_cells + parent_cells + size_cells;
        addr = ranges.chunks_exact(entry).find_map(|r| {
            let child = join(&r[..child_cells])?;
            let parent_addr = join(&r[child_cells..child_cells + parent_cells])?;
            let size = join(&r[child_cells + parent_cells..])?;
            (addr >= child && addr - child < size).then(|| parent_addr + (addr - child))
        })?;
    }
    u64::try_from(addr).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device tree QEMU 7.2 builds for `-M powernv9` (dumped with
    /// `-machine dumpdtb=`).
    const POWERNV9: &[u8] = include_bytes!("../tests/fixtures/qemu-powernv9.dtb");

    #[test]
    fn powernv9_memory_cpus_and_uart() {
        let t = Topology::from_fdt(POWERNV9).unwrap();
        assert_eq!(
            t.memory,
            [MemoryRange {
                base: 0,
                size: 1 << 30
            }]
        );
        assert_eq!(t.cores.len(), 1);
        assert_eq!(t.threads(), 1);
        assert_eq!(t.uart.unwrap().base, 0x0006_0300_d001_03f8);
        assert!(t.model.contains("PowerNV"));
    }

    #[test]
    fn powernv9_has_six_phb_stacks_on_chip0() {
        let t = Topology::from_fdt(POWERNV9).unwrap();
        assert_eq!(t.chips.len(), 1);
        let chip = &t.chips[0];
        assert_eq!(chip.chip_id, 0);
        assert_eq!(chip.xscom_base, 0x0006_03fc_0000_0000);
        let pecs: Vec<(u32, u32, usize)> = chip
            .pecs
            .iter()
            .map(|p| (p.index, p.nest_base, p.stacks.len()))
            .collect();
        assert_eq!(
            pecs,
            [(0, 0x4010c00, 1), (1, 0x4011000, 2), (2, 0x4011400, 3)]
        );
        let indexes: Vec<u32> = t.phb_stacks().map(|(_, _, s)| s.phb_index).collect();
        assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
    }

    /// `-M powernv8` and `-M powernv10` device trees (QEMU 7.2, 1 GiB).
    const POWERNV8: &[u8] = include_bytes!("../tests/fixtures/qemu-powernv8.dtb");
    const POWERNV10: &[u8] = include_bytes!("../tests/fixtures/qemu-powernv10.dtb");

    #[test]
    fn powernv8_pbcqs_are_one_phb_each_and_the_uart_is_behind_xscom() {
        let t = Topology::from_fdt(POWERNV8).unwrap();
        let chip = &t.chips[0];
        assert_eq!(chip.generation, ChipGeneration::Power8);
        assert_eq!(chip.xscom_base, 0x0003_fc00_0000_0000);
        let pecs: Vec<(u32, u32, u32)> = chip
            .pecs
            .iter()
            .map(|p| (p.index, p.nest_base, p.pci_base))
            .collect();
        assert_eq!(
            pecs,
            [
                (0, 0x2012000, 0x9012000),
                (1, 0x2012400, 0x9012400),
                (2, 0x2012800, 0x9012800)
            ]
        );
        let indexes: Vec<(u32, u32)> = t
            .phb_stacks()
            .map(|(_, _, s)| (s.stack, s.phb_index))
            .collect();
        assert_eq!(indexes, [(0, 0), (0, 1), (0, 2)]);
        assert_eq!(t.uart, None);
        assert_eq!(
            t.lpc_uart,
            Some(LpcUart {
                xscom_base: 0x0003_fc00_0000_0000,
                eccb_pcba: 0xb0020,
                io_port: 0x3f8
            })
        );
        assert_eq!(t.cores[0].pir, 8);
    }

    #[test]
    fn powernv10_has_two_pecs_of_three_stacks() {
        let t = Topology::from_fdt(POWERNV10).unwrap();
        let chip = &t.chips[0];
        assert_eq!(chip.generation, ChipGeneration::Power10);
        let pecs: Vec<(u32, u32, usize)> = chip
            .pecs
            .iter()
            .map(|p| (p.index, p.nest_base, p.stacks.len()))
            .collect();
        assert_eq!(pecs, [(0, 0x3011800, 3), (1, 0x2011800, 3)]);
        let indexes: Vec<u32> = t.phb_stacks().map(|(_, _, s)| s.phb_index).collect();
        assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
        assert_eq!(t.uart.unwrap().base, 0x0006_0300_d001_03f8);
        assert_eq!(t.lpc_uart, None);
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        assert_eq!(Topology::from_fdt(&[0u8; 64]), Err(TopologyError::BadBlob));
    }
}
