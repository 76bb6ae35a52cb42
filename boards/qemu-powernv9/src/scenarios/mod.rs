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
mod papr_guest;
mod platform;
mod ram;

/// This board's name in the scenario table.
const BOARD: &str = "qemu-powernv9";

/// The code that runs scenario `id` (`None` for another board's).
fn runner(id: ScenarioId) -> Option<fn(&Topology, &mut Checks)> {
    Some(match id {
        ScenarioId::Boot => boot::run,
        ScenarioId::BootTwoChips => boot::run_two_chips,
        ScenarioId::DmaPhb0 => dma::phb0,
        ScenarioId::DmaPhb3 => dma::phb3,
        ScenarioId::DmaChip1Phb0 => dma::chip1_phb0,
        ScenarioId::DmaAttachedPhb0 => dma::attached_phb0,
        ScenarioId::Guest => guest::run,
        ScenarioId::PaprGuest => papr_guest::run,
        ScenarioId::Trap => faults::trap,
        ScenarioId::IllegalInstruction => faults::illegal_instruction,
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
    let Some(run) = pnv_contract::find(BOARD, name).and_then(|s| runner(s.id)) else {
        println!("PNV: unknown scenario {}; known:", name);
        for s in pnv_contract::of_board(BOARD) {
            println!("PNV:   {}", s.name);
        }
        return false;
    };
    let mut checks = Checks { failed: 0 };
    run(topology, &mut checks);
    checks.failed == 0
}
