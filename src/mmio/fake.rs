//! Host-side register fake: an in-memory register file that records every access.

use super::{Endian, RegisterIo, Width};
use std::boxed::Box;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::vec::Vec;

/// Whether an access read or wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A load.
    Read,
    /// A store.
    Write,
    /// A barrier (`sync`).
    Barrier,
}

/// One recorded access. For a barrier, `addr`, `value` are 0 and width is W64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Load, store or barrier.
    pub op: Op,
    /// Physical address.
    pub addr: u64,
    /// Access width.
    pub width: Width,
    /// Byte order the caller asked for.
    pub endian: Endian,
    /// Value read or written, in the caller's (logical) order.
    pub value: u64,
}

/// A hook that models a register with side effects: called after each write
/// with the register file, so it can change other registers.
pub type WriteHook = Box<dyn FnMut(&mut BTreeMap<u64, u64>, &Access) + Send>;

struct State {
    regs: BTreeMap<u64, u64>,
    log: Vec<Access>,
    hook: Option<WriteHook>,
}

/// An in-memory register file that records every access.
///
/// Registers are keyed by address and hold the last value written in the
/// caller's logical order (so a little-endian write reads back unchanged with a
/// little-endian read of the same width); unwritten registers read as 0 unless
/// preset with [`RecordingIo::preset`].
pub struct RecordingIo {
    state: Mutex<State>,
}

impl Default for RecordingIo {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingIo {
    /// An empty register file.
    pub fn new() -> Self {
        RecordingIo {
            state: Mutex::new(State {
                regs: BTreeMap::new(),
                log: Vec::new(),
                hook: None,
            }),
        }
    }

    /// Sets a register's value without recording an access.
    pub fn preset(&self, addr: u64, value: u64) {
        self.state.lock().unwrap().regs.insert(addr, value);
    }

    /// Current value of a register (0 if never written).
    pub fn peek(&self, addr: u64) -> u64 {
        self.state
            .lock()
            .unwrap()
            .regs
            .get(&addr)
            .copied()
            .unwrap_or(0)
    }

    /// Installs a write hook that models side effects.
    pub fn on_write(&self, hook: WriteHook) {
        self.state.lock().unwrap().hook = Some(hook);
    }

    /// Every access so far, in order.
    pub fn log(&self) -> Vec<Access> {
        self.state.lock().unwrap().log.clone()
    }

    /// Only the writes so far, as `(addr, value)` pairs.
    pub fn writes(&self) -> Vec<(u64, u64)> {
        self.log()
            .into_iter()
            .filter(|a| a.op == Op::Write)
            .map(|a| (a.addr, a.value))
            .collect()
    }

    /// Forgets the recorded accesses (keeps register values).
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }
}

impl RegisterIo for RecordingIo {
    fn read(&self, addr: u64, width: Width, endian: Endian) -> u64 {
        let mut s = self.state.lock().unwrap();
        let value = s.regs.get(&addr).copied().unwrap_or(0) & width.mask();
        s.log.push(Access {
            op: Op::Read,
            addr,
            width,
            endian,
            value,
        });
        value
    }

    fn write(&self, addr: u64, width: Width, endian: Endian, value: u64) {
        let mut s = self.state.lock().unwrap();
        let access = Access {
            op: Op::Write,
            addr,
            width,
            endian,
            value: value & width.mask(),
        };
        s.regs.insert(addr, access.value);
        s.log.push(access);
        let State { regs, hook, .. } = &mut *s;
        if let Some(hook) = hook {
            hook(regs, &access);
        }
    }

    fn barrier(&self) {
        let mut s = self.state.lock().unwrap();
        s.log.push(Access {
            op: Op::Barrier,
            addr: 0,
            width: Width::W64,
            endian: Endian::Big,
            value: 0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_accesses_in_order_with_widths() {
        let io = RecordingIo::new();
        io.write_be64(0x100, 0x1122_3344_5566_7788);
        io.write_le32(0x200, 0xdead_beef);
        assert_eq!(io.read_le32(0x200), 0xdead_beef);
        assert_eq!(io.read8(0x100), 0x88);
        let log = io.log();
        assert_eq!(log.len(), 4);
        assert_eq!(log[1].width, Width::W32);
        assert_eq!(log[1].endian, Endian::Little);
        assert_eq!(log[3].op, Op::Read);
    }

    #[test]
    fn write_hook_models_side_effects() {
        let io = RecordingIo::new();
        // A "kill" register that self-clears and sets a done bit elsewhere.
        io.on_write(Box::new(|regs, a| {
            if a.addr == 0x10 {
                regs.insert(0x10, 0);
                regs.insert(0x18, 1);
            }
        }));
        io.write_be64(0x10, 1 << 63);
        assert_eq!(io.peek(0x10), 0);
        assert_eq!(io.read_be64(0x18), 1);
    }

    #[test]
    fn swap_is_width_exact() {
        assert_eq!(super::super::swap(0x1234, Width::W16), 0x3412);
        assert_eq!(super::super::swap(0x1122_3344, Width::W32), 0x4433_2211);
        assert_eq!(Width::W32.mask(), 0xffff_ffff);
    }
}
