//! The guest-visible TCEs of one window.
//!
//! The hardware table holds host addresses; `H_GET_TCE` must return what the
//! guest stored, and releasing an old mapping needs its logical page. So each
//! window keeps the guest value of every entry here, in chunks of 512 entries
//! (4 KiB) allocated when an entry in them first becomes valid. A window of
//! 2^40 bytes costs nothing until it is used. The shadow lives under the
//! partition lock, so its entries are plain `u64`s.
//!
//! A chunk whose 512 entries were all set to one value at once (what
//! `H_STUFF_TCE` does) just records the value ([`Shadow::fill`]): replacing
//! it, and settling what it held, then costs one step instead of 512 reads
//! and 512 stores. Any other access writes the value out first.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;

/// Entries per chunk.
pub(crate) const CHUNK: usize = 512;
const CHUNK_SHIFT: u32 = 9;
/// Bytes of one chunk.
pub(crate) const CHUNK_BYTES: u64 = (CHUNK * 8) as u64;

/// The allocator could not provide a chunk (nothing was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShadowFull;

/// Guest TCE values by entry index (page number within the window).
///
/// Chunks are kept sorted by their first index. They are allocated only by
/// [`reserve`](Self::reserve), fallibly, before a batch changes anything, so
/// running out of memory refuses the batch instead of aborting half-way.
#[derive(Default)]
pub(crate) struct Shadow {
    chunks: Vec<Chunk>,
    /// Index of the chunk found last (a guest maps near where it mapped
    /// before): tried before the search.
    hint: Cell<usize>,
}

/// 512 entries, from entry `key << 9`.
struct Chunk {
    key: u64,
    entries: Box<[u64]>,
    /// Every entry holds this value (and `entries` is stale).
    uniform: Option<u64>,
}

impl Chunk {
    /// The entries, with a uniform value written out.
    fn entries_mut(&mut self) -> &mut [u64] {
        if let Some(v) = self.uniform.take() {
            self.entries.fill(v);
        }
        &mut self.entries
    }
}

/// The old values of a run of entries about to be replaced.
pub(crate) enum Old<'a> {
    /// `n` entries that all held `value`.
    Same { value: u64, n: u64 },
    /// The entries themselves.
    Entries(&'a [u64]),
}

impl Shadow {
    #[inline]
    fn find(&self, key: u64) -> Result<usize, usize> {
        let hint = self.hint.get();
        if self.chunks.get(hint).is_some_and(|c| c.key == key) {
            return Ok(hint);
        }
        let found = self.chunks.binary_search_by_key(&key, |c| c.key);
        if let Ok(at) = found {
            self.hint.set(at);
        }
        found
    }

    /// The guest value of entry `index` (0 if never written).
    pub(crate) fn get(&self, index: u64) -> u64 {
        match self.find(index >> CHUNK_SHIFT) {
            Ok(at) => {
                let c = &self.chunks[at];
                c.uniform
                    .unwrap_or(c.entries[(index as usize) & (CHUNK - 1)])
            }
            Err(_) => 0,
        }
    }

    /// Whether every chunk of entries `first..first + count` exists (so
    /// [`reserve`](Self::reserve) would allocate nothing).
    #[inline]
    pub(crate) fn is_reserved(&self, first: u64, count: u64) -> bool {
        let Some(last) = (first + count).checked_sub(1) else {
            return true;
        };
        ((first >> CHUNK_SHIFT)..=(last >> CHUNK_SHIFT)).all(|key| self.find(key).is_ok())
    }

    /// The guest value of entry `index`, to change it in place, if its chunk
    /// exists and holds entries (not one value for all of them).
    #[inline]
    pub(crate) fn entry_mut(&mut self, index: u64) -> Option<&mut u64> {
        let at = self.find(index >> CHUNK_SHIFT).ok()?;
        let c = &mut self.chunks[at];
        if c.uniform.is_some() {
            return None;
        }
        c.entries.get_mut((index as usize) & (CHUNK - 1))
    }

    /// Entries `[first, first + count)` (`count > 0`), if they lie in one
    /// chunk that exists and holds its entries one by one.
    pub(crate) fn run(&self, first: u64, count: u64) -> Option<&[u64]> {
        let key = first >> CHUNK_SHIFT;
        let end = first.checked_add(count)?;
        if count == 0 || (end - 1) >> CHUNK_SHIFT != key {
            return None;
        }
        let c = &self.chunks[self.find(key).ok()?];
        let start = (first as usize) & (CHUNK - 1);
        match c.uniform {
            Some(_) => None,
            None => c.entries.get(start..start + count as usize),
        }
    }

    /// Bytes of chunk memory held.
    pub(crate) fn bytes(&self) -> u64 {
        self.chunks.len() as u64 * CHUNK_BYTES
    }

    /// Makes sure every chunk of entries `[first, first + count)` exists
    /// (zeroed). On failure some chunks may have been added: they hold only
    /// zeros, which is what a missing chunk reads as.
    pub(crate) fn reserve(&mut self, first: u64, count: u64) -> Result<(), ShadowFull> {
        if count == 0 {
            return Ok(());
        }
        let last = (first + count - 1) >> CHUNK_SHIFT;
        for key in (first >> CHUNK_SHIFT)..=last {
            if let Err(at) = self.find(key) {
                let mut entries: Vec<u64> = Vec::new();
                entries.try_reserve_exact(CHUNK).map_err(|_| ShadowFull)?;
                entries.resize(CHUNK, 0);
                self.chunks.try_reserve(1).map_err(|_| ShadowFull)?;
                self.chunks.insert(
                    at,
                    Chunk {
                        key,
                        entries: entries.into_boxed_slice(),
                        uniform: None,
                    },
                );
            }
        }
        Ok(())
    }

    /// Calls `f(first_index, entries)` for each run of `count` entries from
    /// `first` that shares a chunk. Runs in missing chunks are skipped (they
    /// read as 0); a caller that writes non-zero values reserves them first.
    pub(crate) fn for_each_run(
        &mut self,
        first: u64,
        count: u64,
        mut f: impl FnMut(u64, &mut [u64]),
    ) {
        let mut index = first;
        let end = first + count;
        while index < end {
            let key = index >> CHUNK_SHIFT;
            let chunk_end = ((key + 1) << CHUNK_SHIFT).min(end);
            let start = (index as usize) & (CHUNK - 1);
            let len = (chunk_end - index) as usize;
            if let Ok(at) = self.find(key) {
                f(
                    index,
                    &mut self.chunks[at].entries_mut()[start..start + len],
                );
            }
            index = chunk_end;
        }
    }

    /// Sets `count` entries from `first` to `value`, first calling `settle`
    /// with the old values of each run that shares a chunk. A whole chunk
    /// is set by recording the value; if it held one value already, `settle`
    /// gets that value instead of the entries. Runs in missing chunks are
    /// skipped (they read as 0); a caller that writes a non-zero value
    /// reserves them first.
    pub(crate) fn fill(
        &mut self,
        first: u64,
        count: u64,
        value: u64,
        mut settle: impl FnMut(Old<'_>),
    ) {
        let mut index = first;
        let end = first + count;
        while index < end {
            let key = index >> CHUNK_SHIFT;
            let chunk_end = ((key + 1) << CHUNK_SHIFT).min(end);
            let start = (index as usize) & (CHUNK - 1);
            let len = (chunk_end - index) as usize;
            if let Ok(at) = self.find(key) {
                let c = &mut self.chunks[at];
                if len == CHUNK {
                    settle(match c.uniform {
                        Some(value) => Old::Same {
                            value,
                            n: CHUNK as u64,
                        },
                        None => Old::Entries(&c.entries),
                    });
                    c.uniform = Some(value);
                } else {
                    let entries = &mut c.entries_mut()[start..start + len];
                    settle(Old::Entries(entries));
                    entries.fill(value);
                }
            }
            index = chunk_end;
        }
    }

    /// Every non-zero entry, as `(index, value)`.
    pub(crate) fn nonzero(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.chunks.iter().flat_map(|c| {
            (0..CHUNK).filter_map(move |i| {
                let v = c.uniform.unwrap_or(c.entries[i]);
                (v != 0).then_some(((c.key << CHUNK_SHIFT) + i as u64, v))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_chunks() {
        let mut s = Shadow::default();
        let mut runs = alloc::vec::Vec::new();
        s.for_each_run(500, 600, |i, e| runs.push((i, e.len())));
        assert!(runs.is_empty());
        s.reserve(500, 600).unwrap();
        assert_eq!(s.bytes(), 3 * CHUNK_BYTES);
        s.for_each_run(500, 600, |i, e| {
            runs.push((i, e.len()));
            e.fill(i);
        });
        assert_eq!(runs, [(500, 12), (512, 512), (1024, 76)]);
        assert_eq!(s.run(512, 512).map(|r| (r.len(), r[0])), Some((512, 512)));
        assert_eq!(s.run(510, 3), None, "spans two chunks");
        assert_eq!(s.run(1100, 3).map(<[u64]>::len), Some(3));
        assert_eq!(s.run(1536, 1), None, "missing chunk");
        assert_eq!(s.run(0, 0), None);
        assert_eq!(s.get(511), 500);
        assert_eq!(s.get(1099), 1024);
        assert_eq!(s.get(1100), 0);
        assert_eq!(s.nonzero().count(), 600);
    }

    #[test]
    fn a_whole_chunk_filled_holds_one_value_until_touched() {
        let mut s = Shadow::default();
        s.reserve(0, 1024).unwrap();
        s.for_each_run(0, 1024, |i, e| {
            e.iter_mut().zip(i..).for_each(|(e, i)| *e = i)
        });
        let mut olds = alloc::vec::Vec::new();
        let mut record = |old: Old<'_>| {
            olds.push(match old {
                Old::Same { value, n } => (value, n, false),
                Old::Entries(e) => (e[0], e.len() as u64, true),
            })
        };
        // 100..612: part of chunk 0 and part of chunk 1, entry by entry.
        s.fill(100, 512, 7, &mut record);
        // All of chunk 1 (its old entries read once), then again (one value).
        s.fill(512, 512, 9, &mut record);
        s.fill(512, 512, 11, &mut record);
        assert_eq!(
            olds,
            [
                (100, 412, true),
                (512, 100, true),
                (7, 512, true),
                (9, 512, false)
            ]
        );
        assert_eq!((s.get(99), s.get(100), s.get(511)), (99, 7, 7));
        assert_eq!((s.get(512), s.get(1023)), (11, 11));
        assert_eq!(
            s.run(600, 2),
            None,
            "a uniform chunk has no entries to lend"
        );
        assert_eq!(
            s.nonzero().filter(|&(i, v)| i >= 512 && v == 11).count(),
            512
        );
        // A partial write writes the value out first.
        s.for_each_run(700, 1, |_, e| e[0] = 3);
        assert_eq!((s.get(699), s.get(700), s.get(701)), (11, 3, 11));
        assert_eq!(s.run(699, 3), Some(&[11, 3, 11][..]));
    }
}
