//! One machine-readable line per case, parsed by `cargo xtask conformance`:
//!
//! ```text
//! CASE <name> expected=<status> observed=<status|none> verdict=<pass|fail|skip>[ detail=<text>]
//! ```
//!
//! Statuses are signed decimals: the LoPAPR status the case expects and the
//! one the hypervisor returned. `observed=none` means the call was not made
//! (a prerequisite failed: verdict fail; or no device: verdict skip). The
//! detail, when present, is free text to the end of the line.

#![deny(unsafe_code)]

use crate::println;
use core::fmt;

/// Counts of verdicts.
#[derive(Default)]
pub struct Report {
    /// Cases that passed.
    pub passed: u32,
    /// Cases that failed.
    pub failed: u32,
    /// Cases skipped (nothing to test them on).
    pub skipped: u32,
}

/// Extra condition of a case besides its status: `Ok` or why not.
pub type Extra = Result<(), Detail>;

/// A short text kept on the stack (no allocator); longer text is cut.
#[derive(Clone, Copy)]
pub struct Detail {
    buf: [u8; 120],
    len: usize,
}

impl Detail {
    /// Formats `args` into a detail.
    pub fn new(args: fmt::Arguments) -> Detail {
        let mut d = Detail {
            buf: [0; 120],
            len: 0,
        };
        let _ = fmt::Write::write_fmt(&mut d, args);
        d
    }
}

impl fmt::Write for Detail {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            // One line per case: no newlines in a detail.
            let b = if b == b'\n' { b' ' } else { b };
            if self.len < self.buf.len() && b.is_ascii() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // Only ASCII bytes are stored, so this is valid UTF-8.
        f.write_str(core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?"))
    }
}

/// Builds a [`Detail`] like `format!`.
#[macro_export]
macro_rules! detail {
    ($($arg:tt)*) => { $crate::report::Detail::new(format_args!($($arg)*)) };
}

impl Report {
    /// Reports a case whose call returned `observed`; it passes when that is
    /// `expected` and `extra` holds. Returns the verdict.
    pub fn check(&mut self, name: &str, expected: i64, observed: i64, extra: Extra) -> bool {
        let pass = observed == expected && extra.is_ok();
        let verdict = if pass { "pass" } else { "fail" };
        match extra {
            Ok(()) => {
                println!("CASE {name} expected={expected} observed={observed} verdict={verdict}")
            }
            Err(why) => println!(
                "CASE {name} expected={expected} observed={observed} verdict={verdict} detail={why}"
            ),
        }
        self.count(pass);
        pass
    }

    /// Like [`check`](Self::check), with a detail printed even on success.
    pub fn check_noted(
        &mut self,
        name: &str,
        expected: i64,
        observed: i64,
        ok: bool,
        note: Detail,
    ) -> bool {
        let pass = observed == expected && ok;
        let verdict = if pass { "pass" } else { "fail" };
        println!(
            "CASE {name} expected={expected} observed={observed} verdict={verdict} detail={note}"
        );
        self.count(pass);
        pass
    }

    /// Reports a case that could not run because a step before it failed:
    /// it fails, so a broken prerequisite never hides as a pass.
    pub fn blocked(&mut self, name: &str, expected: i64, why: Detail) {
        println!("CASE {name} expected={expected} observed=none verdict=fail detail={why}");
        self.count(false);
    }

    /// Reports a case with nothing to run on (e.g. no `edu` device).
    pub fn skip(&mut self, name: &str, expected: i64, why: Detail) {
        println!("CASE {name} expected={expected} observed=none verdict=skip detail={why}");
        self.skipped += 1;
    }

    fn count(&mut self, pass: bool) {
        if pass {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}
