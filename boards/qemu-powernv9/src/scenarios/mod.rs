//! Scenarios the runner selects by name (names and what QEMU must provide
//! live in [`pnv_contract::SCENARIOS`]; this module maps each to its code). Each prints `TEST <name> ... ok` or
//! `TEST <name> ... FAILED: <why>` per check and returns whether all passed.

use crate::println;
use pnv_contract::ScenarioId;
use pnv_iommu::topology::Topology;

mod boot;
mod dma;
mod faults;
mod guest;
mod linux_guest;
mod linux_nvme;
mod papr_guest;
pub mod platform;
mod ram;

/// This firmware's board name in the scenario table: one firmware serves
/// the three PowerNV machines (built for POWER8 on `powernv8`), and the
/// device tree tells which one it runs on.
pub fn board(t: &Topology) -> &'static str {
    use pnv_iommu::topology::ChipGeneration;
    match t.chips.first().map(|c| c.generation) {
        Some(ChipGeneration::Power8) => "qemu-powernv8",
        Some(ChipGeneration::Power10) => "qemu-powernv10",
        _ => "qemu-powernv9",
    }
}

/// The code that runs scenario `id` (`None` for another board's).
fn runner(id: ScenarioId) -> Option<fn(&Topology, &mut Checks)> {
    Some(match id {
        ScenarioId::Boot => boot::run,
        ScenarioId::BootTwoChips => boot::run_two_chips,
        ScenarioId::DmaPhb0 => dma::phb0,
        ScenarioId::DmaPhb3 => dma::phb3,
        ScenarioId::DmaChip1Phb0 => dma::chip1_phb0,
        ScenarioId::DmaAttachedPhb0
        | ScenarioId::DmaAttachedPhb0Powernv8
        | ScenarioId::DmaAttachedPhb0Powernv10 => dma::attached_phb0,
        ScenarioId::Guest => guest::run,
        ScenarioId::GuestHcallFault => guest::hcall_fault,
        ScenarioId::LinuxGuest => linux_guest::run,
        ScenarioId::LinuxGuestNoInitrd => linux_guest::run_no_initrd,
        ScenarioId::LinuxNvme => linux_nvme::run,
        ScenarioId::LinuxNvmeNoDdw => linux_nvme::run_no_ddw,
        ScenarioId::LinuxNvmeSingleTce => linux_nvme::run_single_tce,
        ScenarioId::LinuxNvmeWrongPages => linux_nvme::run_wrong_pages,
        ScenarioId::PaprGuest => papr_guest::run,
        ScenarioId::Trap | ScenarioId::TrapPowernv8 => faults::trap,
        ScenarioId::IllegalInstruction => faults::illegal_instruction,
        ScenarioId::BootPowernv8 | ScenarioId::BootPowernv10 => boot::run,
        ScenarioId::DmaPowernv8Phb0 | ScenarioId::DmaPowernv10Phb0 => dma::phb0,
        ScenarioId::DmaPowernv8Phb2 => dma::phb2,
        ScenarioId::DmaPowernv10Phb4 => dma::phb4,
        ScenarioId::PaprGuestPowernv10 => papr_guest::run,
        ScenarioId::BootTwoChipsPowernv8 | ScenarioId::BootTwoChipsPowernv10 => boot::run_two_chips,
        ScenarioId::DmaChip1Phb0Powernv8 | ScenarioId::DmaChip1Phb0Powernv10 => dma::chip1_phb0,
        ScenarioId::CDma => return None,
    })
}

/// Per-check reporting.
pub struct Checks {
    failed: u32,
}

impl Checks {
    /// Reports one check.
    pub fn check(&mut self, name: &str, result: Result<(), alloc::string::String>) {
        match result {
            Ok(()) => println!("TEST {} ... ok", name),
            Err(why) => {
                self.failed += 1;
                println!("TEST {} ... FAILED: {}", name, why)
            }
        }
    }
}

/// Runs the named scenario (a name of the shared table,
/// [`pnv_contract::SCENARIOS`]); false if it is unknown or any check failed.
pub fn run(name: &str, topology: &Topology) -> bool {
    let Some(run) = pnv_contract::find(board(topology), name).and_then(|s| runner(s.id)) else {
        println!("PNV: unknown scenario {}; known:", name);
        for s in pnv_contract::of_board(board(topology)) {
            println!("PNV:   {}", s.name);
        }
        return false;
    };
    let mut checks = Checks { failed: 0 };
    run(topology, &mut checks);
    checks.failed == 0
}
