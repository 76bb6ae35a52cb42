//! The guest-visible TCEs of one window.
//!
//! The hardware table holds host addresses; `H_GET_TCE` must return what the
//! guest stored, and releasing an old mapping needs its logical page. So each
//! window keeps the guest value of every entry here, in chunks of 512 entries
//! (4 KiB) allocated when an entry in them first becomes valid. A window of
//! 2^40 bytes costs nothing until it is used. The shadow lives under the
//! window's lock, so its entries are plain `u64`s.

use alloc::boxed::Box;
use alloc::vec::Vec;

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
    chunks: Vec<(u64, Box<[u64]>)>,
}

impl Shadow {
    fn find(&self, key: u64) -> Result<usize, usize> {
        self.chunks.binary_search_by_key(&key, |c| c.0)
    }

    /// The guest value of entry `index` (0 if never written).
    pub(crate) fn get(&self, index: u64) -> u64 {
        match self.find(index >> CHUNK_SHIFT) {
            Ok(at) => self.chunks[at].1[(index as usize) & (CHUNK - 1)],
            Err(_) => 0,
        }
    }

    /// Entries `[first, first + count)` (`count > 0`), if they lie in one
    /// chunk that exists.
    pub(crate) fn run(&self, first: u64, count: u64) -> Option<&[u64]> {
        let key = first >> CHUNK_SHIFT;
        let end = first.checked_add(count)?;
        if count == 0 || (end - 1) >> CHUNK_SHIFT != key {
            return None;
        }
        let at = self.find(key).ok()?;
        let start = (first as usize) & (CHUNK - 1);
        self.chunks[at].1.get(start..start + count as usize)
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
                self.chunks.insert(at, (key, entries.into_boxed_slice()));
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
                f(index, &mut self.chunks[at].1[start..start + len]);
            }
            index = chunk_end;
        }
    }

    /// Every non-zero entry, as `(index, value)`.
    pub(crate) fn nonzero(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.chunks.iter().flat_map(|(key, chunk)| {
            let key = *key;
            chunk
                .iter()
                .enumerate()
                .filter(|&(_, &v)| v != 0)
                .map(move |(i, &v)| ((key << CHUNK_SHIFT) + i as u64, v))
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
}
