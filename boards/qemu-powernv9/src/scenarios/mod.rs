//! Scenarios the runner selects by name. Each prints `TEST <name> ... ok` or
//! `TEST <name> ... FAILED: <why>` per check and returns whether all passed.

use crate::println;
use pnv_iommu::topology::Topology;

mod boot;
mod dma;
mod faults;
mod guest;
mod linux_guest;
mod linux_nvme;
mod papr_guest;
mod platform;
mod ram;

/// A scenario: its name, and the function that runs it.
struct Scenario {
    name: &'static str,
    run: fn(&Topology, &mut Checks),
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "boot",
        run: boot::run,
    },
    Scenario {
        name: "dma-phb0",
        run: dma::phb0,
    },
    Scenario {
        name: "dma-phb3",
        run: dma::phb3,
    },
    Scenario {
        name: "guest",
        run: guest::run,
    },
    Scenario {
        name: "guest-hcall-fault",
        run: guest::hcall_fault,
    },
    Scenario {
        name: "linux-guest",
        run: linux_guest::run,
    },
    Scenario {
        name: "linux-guest-no-initrd",
        run: linux_guest::run_no_initrd,
    },
    Scenario {
        name: "linux-nvme",
        run: linux_nvme::run,
    },
    Scenario {
        name: "linux-nvme-noddw",
        run: linux_nvme::run_no_ddw,
    },
    Scenario {
        name: "linux-nvme-single-tce",
        run: linux_nvme::run_single_tce,
    },
    Scenario {
        name: "linux-nvme-wrong-pages",
        run: linux_nvme::run_wrong_pages,
    },
    Scenario {
        name: "papr-guest",
        run: papr_guest::run,
    },
    Scenario {
        name: "trap",
        run: faults::trap,
    },
    Scenario {
        name: "illegal-instruction",
        run: faults::illegal_instruction,
    },
];

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

/// Runs the named scenario; false if it is unknown or any check failed.
pub fn run(name: &str, topology: &Topology) -> bool {
    let Some(scenario) = SCENARIOS.iter().find(|s| s.name == name) else {
        println!("PNV: unknown scenario {}; known:", name);
        for s in SCENARIOS {
            println!("PNV:   {}", s.name);
        }
        return false;
    };
    let mut checks = Checks { failed: 0 };
    (scenario.run)(topology, &mut checks);
    checks.failed == 0
}
