//! XICS emulation for one guest CPU (PAPR's interrupt model, what Linux's
//! `icp_hv` and `ics_rtas` drivers use): a source controller whose sources
//! are the passed-through device's MSIs, and the presentation controller of
//! CPU 0 (server 0).
//!
//! Priorities: 0 is the most favoured, 0xff masks. A source is presented
//! when it is pending, enabled, and its priority is more favoured (lower)
//! than the CPU's current priority (CPPR). Accepting it (H_XIRR) raises the
//! CPPR to its priority; H_EOI restores the CPPR the XIRR carried. The
//! hypervisor injects an external interrupt (0x500) when one is presentable
//! and the guest has MSR[EE] = 1 (QEMU 7.2 has no LPCR[MER] to do it in
//! hardware).

/// Number of the first source (like QEMU's pseries, which starts at 4096).
pub const IRQ_BASE: u32 = 0x1000;
/// Sources: one per MSI vector the device may get.
pub const SOURCES: usize = 8;
/// The masking priority.
pub const LOWEST: u8 = 0xff;
/// Source number of the inter-processor interrupt (XICS reserves 2).
pub const IPI: u32 = 2;

#[derive(Clone, Copy, Debug)]
struct Source {
    server: u32,
    priority: u8,
    /// Priority before `ibm,int-off`, restored by `ibm,int-on`.
    saved: u8,
    pending: bool,
}

const MASKED: Source = Source {
    server: 0,
    priority: LOWEST,
    saved: LOWEST,
    pending: false,
};

/// Why an XICS RTAS call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XicsError {
    /// Not one of this controller's sources.
    NoSource,
    /// A server other than CPU 0.
    BadServer,
}

/// The emulated XICS of one guest.
#[derive(Debug)]
pub struct Xics {
    sources: [Source; SOURCES],
    cppr: u8,
    /// Most favoured request register: an IPI is presented while it is
    /// more favoured than the CPPR.
    mfrr: u8,
    /// Interrupts presented (accepted through H_XIRR).
    pub presented: u64,
}

impl Default for Xics {
    fn default() -> Self {
        Self::new()
    }
}

impl Xics {
    /// All sources masked; CPPR 0 (nothing presented until the guest opens
    /// its priority).
    pub const fn new() -> Self {
        Xics {
            sources: [MASKED; SOURCES],
            cppr: 0,
            mfrr: LOWEST,
            presented: 0,
        }
    }

    fn source(&mut self, irq: u32) -> Result<&mut Source, XicsError> {
        irq.checked_sub(IRQ_BASE)
            .and_then(|i| self.sources.get_mut(i as usize))
            .ok_or(XicsError::NoSource)
    }

    /// `ibm,set-xive`: routes `irq` to `server` at `priority`.
    pub fn set_xive(&mut self, irq: u32, server: u32, priority: u8) -> Result<(), XicsError> {
        if server != 0 {
            return Err(XicsError::BadServer);
        }
        let s = self.source(irq)?;
        s.server = server;
        s.priority = priority;
        s.saved = priority;
        Ok(())
    }

    /// `ibm,get-xive`: server and priority of `irq`.
    pub fn get_xive(&mut self, irq: u32) -> Result<(u32, u8), XicsError> {
        let s = self.source(irq)?;
        Ok((s.server, s.priority))
    }

    /// `ibm,int-off`: masks `irq`, keeping its priority for `int-on`.
    pub fn int_off(&mut self, irq: u32) -> Result<(), XicsError> {
        let s = self.source(irq)?;
        if s.priority != LOWEST {
            s.saved = s.priority;
        }
        s.priority = LOWEST;
        Ok(())
    }

    /// `ibm,int-on`: restores the priority `int-off` kept.
    pub fn int_on(&mut self, irq: u32) -> Result<(), XicsError> {
        let s = self.source(irq)?;
        s.priority = s.saved;
        Ok(())
    }

    /// The device raised source `index` (an MSI arrived).
    pub fn trigger(&mut self, index: usize) {
        if let Some(s) = self.sources.get_mut(index) {
            s.pending = true;
        }
    }

    /// The most favoured presentable source: (index, priority).
    fn best(&self) -> Option<(usize, u8)> {
        self.sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.pending && s.priority < self.cppr)
            .min_by_key(|(_, s)| s.priority)
            .map(|(i, s)| (i, s.priority))
    }

    /// True if an interrupt should be presented to the CPU now.
    pub fn presentable(&self) -> bool {
        self.best().is_some() || self.mfrr < self.cppr
    }

    /// H_IPI to server 0 (the only one): sets the MFRR.
    pub fn ipi(&mut self, server: u64, mfrr: u8) -> Result<(), XicsError> {
        if server != 0 {
            return Err(XicsError::BadServer);
        }
        self.mfrr = mfrr;
        Ok(())
    }

    /// H_XIRR: accepts the most favoured presentable interrupt; returns the
    /// XIRR (old CPPR in the top byte, source number below; 0 = none).
    pub fn xirr(&mut self) -> u32 {
        let old = self.cppr;
        let source_priority = self.best().map_or(LOWEST, |(_, p)| p);
        if self.mfrr < self.cppr && self.mfrr <= source_priority {
            self.cppr = self.mfrr;
            self.presented += 1;
            return (old as u32) << 24 | IPI;
        }
        match self.best() {
            Some((i, priority)) => {
                self.sources[i].pending = false;
                self.cppr = priority;
                self.presented += 1;
                (old as u32) << 24 | (IRQ_BASE + i as u32)
            }
            None => (old as u32) << 24,
        }
    }

    /// H_EOI: the CPPR returns to the XIRR's top byte.
    pub fn eoi(&mut self, xirr: u32) {
        self.cppr = (xirr >> 24) as u8;
    }

    /// H_CPPR.
    pub fn set_cppr(&mut self, cppr: u8) {
        self.cppr = cppr;
    }
}
