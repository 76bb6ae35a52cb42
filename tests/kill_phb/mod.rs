//! A test PHB whose only behaviour is its kill: `kill_only_phb!(T)` makes
//! `T` (which has `fn kill(&self) -> Result<(), ()>`) a PAPR
//! `WindowProgrammer` whose every invalidation is one `kill` and whose
//! window calls and syncs succeed at once.

/// Implements `Invalidate` and `WindowProgrammer` for `$phb` through its
/// `kill` method (import `Invalidate`, `IovaRange`, `WindowProgrammer` and
/// `WindowTable` where it is used).
#[macro_export]
macro_rules! kill_only_phb {
    ($phb:ty) => {
        impl Invalidate for $phb {
            type Error = ();
            fn invalidate_all(&self) -> Result<(), ()> {
                self.kill()
            }
            fn invalidate_pe(&self, _: u16) -> Result<(), ()> {
                self.kill()
            }
            fn invalidate_range(&self, _: u16, _: IovaRange) -> Result<(), ()> {
                self.kill()
            }
            fn sync(&self) -> Result<(), ()> {
                Ok(())
            }
        }

        impl WindowProgrammer for $phb {
            fn set_window(&self, _: u16, _: u32, _: &WindowTable) -> Result<(), ()> {
                Ok(())
            }
            fn clear_window(&self, _: u16, _: u32) -> Result<(), ()> {
                Ok(())
            }
        }
    };
}
