//! Tables shared by several PEs (a container / IOMMU group).
//!
//! One TCE table can be set into the TVEs of several PEs, on one PHB or
//! several. Lifetimes are explicit: `create` → `set` on each PE → `unset` on
//! each PE → `free`; `free` refuses while any TVE still points at the table.
//! The registry speaks in raw table addresses ([`TranslatedTve`]), so it does
//! not depend on the TCE engine's types; the table memory itself stays with
//! its owner, who may release it once `free` succeeds.
//!
//! Slots held by a shared table are marked in the PHB
//! ([`Phb::set_shared_slot`]), and the PHB's own
//! [`set_window`](Phb::set_window) refuses them
//! ([`PhbError::WindowShared`]), so the reference count cannot go stale
//! behind the registry's back. The registry works over any [`Phb`].

use super::tve::TranslatedTve;
use super::{Phb, PhbError, SLOTS_PER_PE};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A TVE that points at a shared table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TveRef {
    /// The caller's identifier of the PHB (e.g. the OPAL PHB id).
    pub phb: u64,
    /// PE number.
    pub pe: u32,
    /// TVE slot of the PE (0 or 1).
    pub slot: u32,
}

/// Why a shared-table operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedTableError {
    /// A table with this address is already registered.
    Exists,
    /// No table with this address is registered.
    Unknown,
    /// The table is still set in this many TVEs.
    InUse(usize),
    /// The slot is already held by a shared table.
    WindowBusy,
    /// The slot is not held by this table.
    NotSet,
    /// The PHB refused (bad PE or slot number, kill failure...).
    Phb(PhbError),
}

impl From<PhbError> for SharedTableError {
    fn from(e: PhbError) -> Self {
        SharedTableError::Phb(e)
    }
}

#[derive(Debug)]
struct Entry {
    table: TranslatedTve,
    users: Vec<TveRef>,
}

/// Registry of shared tables, keyed by table address.
#[derive(Debug, Default)]
pub struct TableRegistry {
    tables: BTreeMap<u64, Entry>,
}

impl TableRegistry {
    /// An empty registry.
    pub fn new() -> TableRegistry {
        TableRegistry::default()
    }

    /// Registers `table`; its address is its id.
    pub fn create(&mut self, table: TranslatedTve) -> Result<u64, SharedTableError> {
        if self.tables.contains_key(&table.table_addr) {
            return Err(SharedTableError::Exists);
        }
        self.tables.insert(
            table.table_addr,
            Entry {
                table,
                users: Vec::new(),
            },
        );
        Ok(table.table_addr)
    }

    /// The TVEs pointing at table `id`.
    pub fn users(&self, id: u64) -> Option<&[TveRef]> {
        self.tables.get(&id).map(|e| e.users.as_slice())
    }

    /// Sets table `id` into `slot` of `pe` on `phb` (known to the caller
    /// as `phb_id`). Programs the same TVE every user gets.
    pub fn set<P: Phb + ?Sized>(
        &mut self,
        id: u64,
        phb_id: u64,
        phb: &mut P,
        pe: u64,
        slot: u32,
    ) -> Result<(), SharedTableError> {
        let entry = self.tables.get_mut(&id).ok_or(SharedTableError::Unknown)?;
        if phb.slot_is_shared(pe, slot)? {
            return Err(SharedTableError::WindowBusy);
        }
        // Record the user only once the PHB accepted the table, but before
        // the outcome of its kill: the TVE is programmed before the PE's TCE
        // cache is killed, so even when the kill fails the TVE points at the
        // table, and the table must stay registered (and un-freeable) until
        // that TVE is unset.
        let user = TveRef {
            phb: phb_id,
            pe: pe as u32, // checked by slot_is_shared
            slot,
        };
        match phb.set_shared_slot(pe, slot, Some(&entry.table)) {
            Ok(()) => {
                entry.users.push(user);
                Ok(())
            }
            Err(PhbError::Kill(k)) => {
                entry.users.push(user);
                Err(PhbError::Kill(k).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes table `id` from `slot` of `pe` (TVE = 0, PE cache killed).
    pub fn unset<P: Phb + ?Sized>(
        &mut self,
        id: u64,
        phb_id: u64,
        phb: &mut P,
        pe: u64,
        slot: u32,
    ) -> Result<(), SharedTableError> {
        let entry = self.tables.get_mut(&id).ok_or(SharedTableError::Unknown)?;
        if slot >= SLOTS_PER_PE {
            return Err(PhbError::WindowId.into());
        }
        let pos = entry
            .users
            .iter()
            .position(|u| u.phb == phb_id && u.pe as u64 == pe && u.slot == slot)
            .ok_or(SharedTableError::NotSet)?;
        phb.set_shared_slot(pe, slot, None)?;
        entry.users.swap_remove(pos);
        Ok(())
    }

    /// Forgets table `id`; refused while any TVE points at it.
    pub fn free(&mut self, id: u64) -> Result<TranslatedTve, SharedTableError> {
        let entry = self.tables.get(&id).ok_or(SharedTableError::Unknown)?;
        if !entry.users.is_empty() {
            return Err(SharedTableError::InUse(entry.users.len()));
        }
        self.tables
            .remove(&id)
            .map(|e| e.table)
            .ok_or(SharedTableError::Unknown)
    }

    /// Drops every reference from PHB `phb_id` (after its IODA tables were
    /// purged, which invalidated all its TVEs).
    pub fn forget_phb(&mut self, phb_id: u64) {
        for e in self.tables.values_mut() {
            e.users.retain(|u| u.phb != phb_id);
        }
    }
}
