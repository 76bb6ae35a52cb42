//! Console on the hypervisor's virtual terminal 0 (H_PUT_TERM_CHAR), and the
//! end-of-run protocol: the verdict line, then H_PNV_GUEST_EXIT.

use crate::hcall::{H_PNV_GUEST_EXIT, hcall, put_term};
use core::fmt::{self, Write};

/// Bytes gathered before one hypercall (H_PUT_TERM_CHAR takes at most 16).
const CHUNK: usize = 16;

/// The console as a `fmt::Write` sink; it sends 16 bytes per hypercall and
/// flushes at every newline and at the end of each `write_fmt`.
pub struct Console {
    buf: [u8; CHUNK],
    len: usize,
}

impl Console {
    /// An empty console buffer.
    pub const fn new() -> Self {
        Console {
            buf: [0; CHUNK],
            len: 0,
        }
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) {
        if self.len > 0 {
            put_term(&self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.buf[self.len] = b;
            self.len += 1;
            if self.len == CHUNK || b == b'\n' {
                self.flush();
            }
        }
        Ok(())
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let mut c = $crate::console::Console::new();
        let _ = core::fmt::Write::write_fmt(&mut c, format_args!($($arg)*));
        c.flush();
    }};
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{ $crate::print!("{}\n", format_args!($($arg)*)); }};
}

/// Reports the verdict, asks the hypervisor to end the run, and spins (QEMU
/// answers H_FUNCTION to the exit call; its runner ends QEMU on the line).
pub fn finish(pass: bool, why: fmt::Arguments) -> ! {
    if pass {
        crate::println!("PNV-RESULT: PASS");
    } else {
        crate::println!("PNV-RESULT: FAIL {}", why);
    }
    let _ = hcall(H_PNV_GUEST_EXIT, &[u64::from(!pass)]);
    loop {
        core::hint::spin_loop();
    }
}
