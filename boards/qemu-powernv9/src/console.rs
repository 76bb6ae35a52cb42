//! Console on the 16550 UART the device tree names, and the result protocol
//! the xtask runner reads.
//!
//! The UART address is kept in an atomic, not behind a lock, so the
//! exception path can print even if it interrupted a print.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use pnv_iommu::mmio::{CacheInhibited, RegisterIo};

/// Line status register offset and its "transmit holding register empty" bit.
const UART_LSR: u64 = 5;
const UART_LSR_THRE: u8 = 0x20;
/// Bound on the transmit-ready poll; past it the byte is dropped.
const UART_POLL_LIMIT: u32 = 1_000_000;

static UART_BASE: AtomicU64 = AtomicU64::new(0);

/// Directs output to the 16550 at `base` (from the device tree).
pub fn init(base: u64) {
    UART_BASE.store(base, Ordering::SeqCst);
}

fn mmio() -> CacheInhibited {
    crate::io::io()
}

fn putc(io: &CacheInhibited, base: u64, byte: u8) {
    for _ in 0..UART_POLL_LIMIT {
        if io.read8(base + UART_LSR) & UART_LSR_THRE != 0 {
            break;
        }
    }
    io.write8(base, byte);
}

/// The console as a `fmt::Write` sink; output before [`init`] is dropped.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let base = UART_BASE.load(Ordering::SeqCst);
        if base == 0 {
            return Ok(());
        }
        let io = mmio();
        for b in s.bytes() {
            if b == b'\n' {
                putc(&io, base, b'\r');
            }
            putc(&io, base, b);
        }
        Ok(())
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{ $crate::print!($($arg)*); $crate::print!("\n"); }};
}

/// Reports the run's verdict to the runner and stops this thread.
///
/// The runner ends QEMU when it reads this line (QEMU 7.2 on powernv has no
/// exit device).
pub fn finish(pass: bool, why: fmt::Arguments) -> ! {
    if pass {
        println!("PNV-RESULT: PASS");
    } else {
        println!("PNV-RESULT: FAIL {}", why);
    }
    loop {
        core::hint::spin_loop();
    }
}
