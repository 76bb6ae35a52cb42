//! The unwinding symbols the prebuilt `core` and `alloc` for
//! `powerpc64-unknown-linux-musl` reference (they were compiled with
//! unwinding). The boards build with `panic = "abort"`, so nothing ever
//! unwinds. Defined here, and nowhere else, so each board's image has
//! exactly one definition of each.

/// Reaching this is a bug: it panics, so the board's panic handler reports
/// the run as failed.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    panic!("_Unwind_Resume called")
}

/// Referenced for the same reason as [`_Unwind_Resume`]; never called with
/// `panic = "abort"`.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
