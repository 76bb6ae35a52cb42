//! A guest's console (`H_PUT_TERM_CHAR`) as the hypervisor sees it: a byte
//! stream cut into lines, each handed to the caller as it completes and
//! echoed as `GUEST| <line>`.
//!
//! Nothing a guest prints grows hypervisor memory: a line is kept only until
//! its newline, and only its first [`MAX_LINE`] bytes; what the verdict
//! needs is picked out of each line by the caller's callback and the line is
//! then forgotten. The echo to the UART stops after [`ECHO_LINES`] lines (a
//! flood would otherwise hold the hypervisor on the UART for minutes); the
//! lines are still counted and still reach the callback.

use super::GuestRegs;
use crate::println;
use pnv_iommu::papr::HStatus;

/// Longest line kept; the rest of a longer line is counted and dropped.
pub const MAX_LINE: usize = 512;
/// Lines echoed to the hypervisor's console before the echo stops.
pub const ECHO_LINES: u64 = 20_000;
/// Bytes one `H_PUT_TERM_CHAR` carries at most (r6 and r7).
const MAX_CHARS: u64 = 16;

/// The console stream of one guest.
pub struct GuestConsole {
    terminal: u64,
    line: [u8; MAX_LINE],
    len: usize,
    lines: u64,
    bytes: u64,
}

impl GuestConsole {
    /// An empty console whose terminal number (the `reg` of its device
    /// tree node) is `terminal`; 0 is accepted too (PAPR's early-debug
    /// convention, which QEMU's pseries also honours).
    pub const fn new(terminal: u64) -> Self {
        GuestConsole {
            terminal,
            line: [0; MAX_LINE],
            len: 0,
            lines: 0,
            bytes: 0,
        }
    }

    /// `H_PUT_TERM_CHAR`: r4 = terminal (this console's or 0), r5 = length
    /// (at most 16), r6 and r7 = the bytes, big-endian. Calls `on_line` for
    /// every line the bytes complete; returns the status for r3.
    pub fn put_term_char(&mut self, regs: &GuestRegs, on_line: &mut dyn FnMut(&str)) -> u64 {
        let (terminal, len) = (regs.gpr[4], regs.gpr[5]);
        if terminal != 0 && terminal != self.terminal {
            return HStatus::Parameter.to_reg();
        }
        if len > MAX_CHARS {
            return HStatus::Parameter.to_reg();
        }
        let mut bytes = [0u8; MAX_CHARS as usize];
        bytes[..8].copy_from_slice(&regs.gpr[6].to_be_bytes());
        bytes[8..].copy_from_slice(&regs.gpr[7].to_be_bytes());
        for &b in &bytes[..len as usize] {
            self.push(b, on_line);
        }
        HStatus::Success.to_reg()
    }

    fn push(&mut self, byte: u8, on_line: &mut dyn FnMut(&str)) {
        self.bytes = self.bytes.saturating_add(1);
        match byte {
            b'\n' => {
                let kept = &self.line[..self.len];
                // A line cut at MAX_LINE may end inside a character.
                let text = match core::str::from_utf8(kept) {
                    Ok(s) => s,
                    Err(e) => core::str::from_utf8(&kept[..e.valid_up_to()]).unwrap_or(""),
                };
                if self.lines < ECHO_LINES {
                    println!("GUEST| {}", text);
                } else if self.lines == ECHO_LINES {
                    println!("PNV: guest console: echo stops after {} lines", ECHO_LINES);
                }
                on_line(text);
                self.lines = self.lines.saturating_add(1);
                self.len = 0;
            }
            b'\r' => {}
            _ if self.len < MAX_LINE => {
                self.line[self.len] = byte;
                self.len += 1;
            }
            _ => {}
        }
    }

    /// Complete lines received.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes received (newlines included).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}
