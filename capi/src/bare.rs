//! What a bare-metal link of the static library needs, on `powerpc64`
//! only: the C firmware supplies memory and failure handling through three
//! hooks declared in `include/pnv_iommu.h`, and this module turns them into
//! the Rust runtime pieces a `no_std` crate must provide.
//!
//! - [`FirmwareHeap`], the `#[global_allocator]`, over `pnv_iommu_alloc` /
//!   `pnv_iommu_free`.
//! - The `#[panic_handler]`, which formats the panic message into a stack
//!   buffer and passes it to `pnv_iommu_abort` (which must not return).
//! - `_Unwind_Resume` and `rust_eh_personality`: the prebuilt `core` and
//!   `alloc` of `powerpc64-unknown-linux-musl` were compiled with unwinding
//!   and reference them. The library builds with `panic = "abort"`, so
//!   nothing unwinds; they are defined here, so the C firmware must not
//!   define them (each is then defined exactly once in its link).
//!
//! The `mem*` functions (`memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`)
//! are not defined here: as in skiboot, the C firmware has its own.

use core::alloc::{GlobalAlloc, Layout};
use core::fmt::{self, Write};
use core::panic::PanicInfo;

unsafe extern "C" {
    /// C hook: `size` bytes aligned to `align` (a power of two), or null.
    fn pnv_iommu_alloc(size: usize, align: usize) -> *mut u8;
    /// C hook: gives back what `pnv_iommu_alloc(size, align)` returned.
    fn pnv_iommu_free(p: *mut u8, size: usize, align: usize);
    /// C hook: reports `len` bytes of message at `msg` and never returns.
    fn pnv_iommu_abort(msg: *const u8, len: usize) -> !;
}

/// The global allocator: every allocation of the library (PHB tables, the
/// PHB list, enumeration results) goes to the C firmware's hooks.
pub struct FirmwareHeap;

// SAFETY: the C firmware's contract (pnv_iommu.h) is that pnv_iommu_alloc
// returns null or `size` bytes aligned to `align` that nothing else uses
// until pnv_iommu_free is called with the same pointer, size and alignment;
// that is the GlobalAlloc contract.
unsafe impl GlobalAlloc for FirmwareHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: a call to the C hook; Layout guarantees a non-zero
        // power-of-two alignment and a size that does not overflow when
        // rounded up to it.
        unsafe { pnv_iommu_alloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc's caller passes a pointer this allocator
        // returned for the same layout, which is what the hook requires.
        unsafe { pnv_iommu_free(ptr, layout.size(), layout.align()) }
    }
}

#[global_allocator]
static HEAP: FirmwareHeap = FirmwareHeap;

/// A fixed buffer that keeps as much of a formatted message as fits.
struct MessageBuffer {
    bytes: [u8; 256],
    len: usize,
}

impl Write for MessageBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let mut buf = MessageBuffer {
        bytes: [0; 256],
        len: 0,
    };
    let _ = write!(buf, "pnv-iommu panic: {}", info.message());
    if let Some(loc) = info.location() {
        let _ = write!(buf, " at {}:{}", loc.file(), loc.line());
    }
    // SAFETY: a call to the C hook with a pointer to `len` initialised
    // bytes that live for the call; the hook never returns.
    unsafe { pnv_iommu_abort(buf.bytes.as_ptr(), buf.len) }
}

/// Referenced by the prebuilt `core`/`alloc`; never called with
/// `panic = "abort"`. Reaching it is a bug, reported through the panic
/// handler (and so the abort hook).
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    panic!("_Unwind_Resume called")
}

/// Referenced for the same reason as [`_Unwind_Resume`]; never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
