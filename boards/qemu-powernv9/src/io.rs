//! The board's one register accessor: cache-inhibited loads and stores
//! (`ldcix`/`stdcix`, ...) for device registers (UART, XSCOM, PHB, edu).

use pnv_iommu::mmio::CacheInhibited;

/// Register access for the console, the PHB driver and the devices.
pub fn io() -> CacheInhibited {
    // SAFETY: the firmware runs in hypervisor real mode throughout (MSR IR/DR
    // clear), and every address passed to the accessor is a device register
    // the device tree or the PHB address map names: the UART, XSCOM, PHB
    // registers and BARs the driver assigned.
    unsafe { CacheInhibited::new() }
}
