//! Level memory: the only code that turns a level's physical address into a
//! Rust reference.
//!
//! A [`Tree`] owns every level of one table. Callers reach levels only through
//! [`Node`]s handed out by the tree, and indirect entries are written only by
//! [`Indirect::child_or_install`], so every address this module turns into
//! memory is one the tree allocated and still owns. That is the whole safety
//! argument; nothing outside this file can name a level by address.
//!
//! Entries are `AtomicU64`s holding big-endian values, which is what the PHB
//! reads on the big-endian target and stays correct on a little-endian host.
//!
//! Why atomics here and `volatile` for the PHB's other tables (RTT, PELT-V,
//! PEST in [`crate::phb::dmamem`], and board memory in `pnv_rt::phys`):
//! TCE entries are shared between CPUs as well as with the device. Several
//! CPUs map into one table at once (the hypercalls), so an entry is
//! exchanged (`swap` returns the TCE it replaced, which the caller must
//! release) and an indirect level is installed with a compare-exchange
//! (the loser frees its block): read-modify-write operations `volatile`
//! does not offer. Atomic stores are not elided or merged by the compiler
//! as observable by other threads, and the device sees them no later than
//! the kill that follows every change (it starts with a `sync`), which is
//! the ordering the PHB needs. The RTT and the PHB's other tables are
//! written by one owner under `&mut` and only read by the device, where
//! a volatile store is exactly what is needed.

use core::sync::atomic::{AtomicU64, Ordering};

use super::TceError;
use crate::page_alloc::PageAllocator;
use alloc::vec::Vec;

/// Permission bits that make an indirect entry valid (both set, as the PHB
/// requires at least one).
const INDIRECT_VALID: u64 = 0x3;

/// How many levels and how big: all a node needs to find its children.
#[derive(Clone, Copy, Debug)]
struct Shape {
    levels: u32,
    level_shift: u32,
}

/// The levels of one table, freed together when the tree is dropped.
pub(crate) struct Tree<A: PageAllocator> {
    alloc: A,
    top: u64,
    shape: Shape,
    held: AtomicU64,
}

/// A level reached from the tree, borrowed for `'t`.
pub(crate) enum Node<'t> {
    /// A level whose entries point at further levels.
    Indirect(Indirect<'t>),
    /// The last level, whose entries are TCEs.
    Leaf(Leaf<'t>),
}

/// A leaf level: its entries are TCEs, free for the table to read and write.
pub(crate) struct Leaf<'t> {
    /// The level's entries (big-endian values).
    pub entries: &'t [AtomicU64],
}

/// A level of indirect entries; only this module reads or writes them.
pub(crate) struct Indirect<'t> {
    words: &'t [AtomicU64],
    depth: u32,
    shape: Shape,
}

/// Zeroed blocks allocated ahead of a change, so that the change cannot fail
/// half way. Unused blocks go back to the allocator when this is dropped.
pub(crate) struct Spares<'t, A: PageAllocator> {
    tree: &'t Tree<A>,
    blocks: Vec<u64>,
}

/// Turns the address of a level the tree owns into a node.
///
/// Callers pass only `Tree::top` or an address read from an indirect entry
/// (written solely by `child_or_install`), at the depth where it sits.
fn node_at<'t>(phys: u64, depth: u32, shape: Shape) -> Node<'t> {
    let words = words_at(phys, shape);
    if depth + 1 == shape.levels {
        Node::Leaf(Leaf { entries: words })
    } else {
        Node::Indirect(Indirect {
            words,
            depth,
            shape,
        })
    }
}

/// The entries of the level at `phys` (as for [`node_at`]).
#[inline(always)]
fn words_at<'t>(phys: u64, shape: Shape) -> &'t [AtomicU64] {
    let len = 1usize << (shape.level_shift - 3);
    // SAFETY:
    // - `phys` is a block of `1 << level_shift` bytes from the tree's
    //   `PageAllocator` (top level, or installed by `child_or_install`), whose
    //   contract makes it CPU-addressable at `phys`, aligned to its size (so to
    //   8) and exclusively ours;
    // - the tree frees blocks only in `Drop`, which needs `&mut Tree`, so the
    //   block outlives every `'t` borrow of the tree;
    // - every access to the block goes through these `AtomicU64`s (the device
    //   only reads it), so there are no conflicting non-atomic accesses.
    unsafe { core::slice::from_raw_parts(phys as usize as *const AtomicU64, len) }
}

impl<A: PageAllocator> Tree<A> {
    /// Allocates the top level.
    pub(crate) fn new(alloc: A, levels: u32, level_shift: u32) -> Result<Self, TceError> {
        let top = alloc.alloc_zeroed(level_shift)?;
        Ok(Tree {
            alloc,
            top,
            shape: Shape {
                levels,
                level_shift,
            },
            held: AtomicU64::new(1 << level_shift),
        })
    }

    /// Physical address of the top level.
    pub(crate) fn top_phys(&self) -> u64 {
        self.top
    }

    /// The top level.
    pub(crate) fn top(&self) -> Node<'_> {
        node_at(self.top, 0, self.shape)
    }

    /// The leaf level reached through entry `index(depth)` of each indirect
    /// level, if it exists: one load per indirect level, the walk through
    /// [`Node`]s without building them.
    #[inline(always)]
    pub(crate) fn leaf(&self, index: impl Fn(u32) -> usize) -> Option<&[AtomicU64]> {
        let mut phys = self.top;
        for depth in 0..self.shape.levels - 1 {
            let raw =
                u64::from_be(words_at(phys, self.shape)[index(depth)].load(Ordering::Acquire));
            if raw & INDIRECT_VALID == 0 {
                return None;
            }
            phys = raw & !0xfff;
        }
        Some(words_at(phys, self.shape))
    }

    /// Bytes of level memory held (every level, top included).
    pub(crate) fn bytes_held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Allocates `n` zeroed levels up front, or none at all.
    pub(crate) fn spares(&self, n: usize) -> Result<Spares<'_, A>, TceError> {
        let mut spares = Spares {
            tree: self,
            blocks: Vec::new(),
        };
        spares
            .blocks
            .try_reserve_exact(n)
            .map_err(|_| TceError::NoMemory)?;
        for _ in 0..n {
            // On failure `spares` is dropped and frees what it holds.
            spares
                .blocks
                .push(self.alloc.alloc_zeroed(self.shape.level_shift)?);
        }
        Ok(spares)
    }

    /// Calls `f(phys, depth, entries)` for every level, parents before children.
    #[cfg(any(test, feature = "std"))]
    pub(crate) fn for_each_level(&self, mut f: impl FnMut(u64, u32, &[AtomicU64])) {
        fn visit(node: Node<'_>, phys: u64, depth: u32, f: &mut dyn FnMut(u64, u32, &[AtomicU64])) {
            match node {
                Node::Leaf(leaf) => f(phys, depth, leaf.entries),
                Node::Indirect(ind) => {
                    f(phys, depth, ind.words);
                    for idx in 0..ind.words.len() {
                        if let Some((child_phys, child)) = ind.child_with_phys(idx) {
                            visit(child, child_phys, depth + 1, f);
                        }
                    }
                }
            }
        }
        visit(self.top(), self.top, 0, &mut f);
    }
}

impl<A: PageAllocator> Drop for Tree<A> {
    fn drop(&mut self) {
        fn free_subtree<A: PageAllocator>(tree: &Tree<A>, node: Node<'_>, phys: u64) {
            if let Node::Indirect(ind) = node {
                for idx in 0..ind.words.len() {
                    if let Some((child_phys, child)) = ind.child_with_phys(idx) {
                        free_subtree(tree, child, child_phys);
                    }
                }
            }
            // SAFETY: `phys` is a level this tree allocated with this shift and
            // installed exactly once (the compare-exchange lets one block into
            // each entry); we are in `drop`, so no node borrows it any longer,
            // and its children were freed above without touching it again.
            unsafe { tree.alloc.free(phys, tree.shape.level_shift) };
        }
        free_subtree(self, self.top(), self.top);
    }
}

impl<'t> Indirect<'t> {
    /// The child level behind entry `idx`, if one is installed.
    #[inline]
    pub(crate) fn child(&self, idx: usize) -> Option<Node<'t>> {
        self.child_with_phys(idx).map(|(_, node)| node)
    }

    #[inline]
    fn child_with_phys(&self, idx: usize) -> Option<(u64, Node<'t>)> {
        let raw = u64::from_be(self.words[idx].load(Ordering::Acquire));
        if raw & INDIRECT_VALID == 0 {
            return None;
        }
        let phys = raw & !0xfff;
        Some((phys, node_at(phys, self.depth + 1, self.shape)))
    }

    /// The child level behind entry `idx`, installing a block from `spares`
    /// if there is none. If another CPU installs one first, that one is used
    /// and the block stays in `spares`. Fails only if `spares` is empty.
    pub(crate) fn child_or_install<A: PageAllocator>(
        &self,
        idx: usize,
        spares: &mut Spares<'t, A>,
    ) -> Result<Node<'t>, TceError> {
        if let Some(node) = self.child(idx) {
            return Ok(node);
        }
        let block = spares.blocks.pop().ok_or(TceError::NoMemory)?;
        let new = (block | INDIRECT_VALID).to_be();
        match self.words[idx].compare_exchange(0, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                spares
                    .tree
                    .held
                    .fetch_add(1 << self.shape.level_shift, Ordering::Relaxed);
                Ok(node_at(block, self.depth + 1, self.shape))
            }
            Err(_) => {
                // Lost the race: the winner's level is in place; keep ours spare.
                spares.blocks.push(block);
                self.child(idx).ok_or(TceError::NoMemory)
            }
        }
    }
}

impl<A: PageAllocator> Drop for Spares<'_, A> {
    fn drop(&mut self) {
        for &block in &self.blocks {
            // SAFETY: `block` came from `alloc_zeroed` with this shift in
            // `Tree::spares`, was never installed (installed blocks are popped),
            // and no reference to it was made.
            unsafe { self.tree.alloc.free(block, self.tree.shape.level_shift) };
        }
    }
}
