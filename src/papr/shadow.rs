//! The guest-visible TCEs of one window.
//!
//! The hardware table holds host addresses; `H_GET_TCE` must return what the
//! guest stored, and releasing an old mapping needs its logical page. So each
//! window keeps the guest value of every entry here, in chunks of 512 entries
//! (4 KiB) allocated when an entry in them first becomes valid. A window of
//! 2^40 bytes costs nothing until it is used. The shadow lives under the
//! window's lock, so its entries are plain `u64`s.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

/// Entries per chunk.
pub(crate) const CHUNK: usize = 512;
const CHUNK_SHIFT: u32 = 9;

/// Guest TCE values by entry index (page number within the window).
#[derive(Default)]
pub(crate) struct Shadow {
    chunks: BTreeMap<u64, Box<[u64; CHUNK]>>,
}

impl Shadow {
    /// The guest value of entry `index` (0 if never written).
    pub(crate) fn get(&self, index: u64) -> u64 {
        self.chunks
            .get(&(index >> CHUNK_SHIFT))
            .map_or(0, |c| c[(index as usize) & (CHUNK - 1)])
    }

    /// Calls `f(first_index, entries)` for each run of `count` entries from
    /// `first` that shares a chunk. With `allocate`, missing chunks are
    /// created; without it, runs in missing chunks are skipped (they read as
    /// 0, which is what the caller would write).
    pub(crate) fn for_each_run(
        &mut self,
        first: u64,
        count: u64,
        allocate: bool,
        mut f: impl FnMut(u64, &mut [u64]),
    ) {
        let mut index = first;
        let end = first + count;
        while index < end {
            let key = index >> CHUNK_SHIFT;
            let chunk_end = ((key + 1) << CHUNK_SHIFT).min(end);
            let start = (index as usize) & (CHUNK - 1);
            let len = (chunk_end - index) as usize;
            let chunk = if allocate {
                Some(
                    self.chunks
                        .entry(key)
                        .or_insert_with(|| Box::new([0; CHUNK])),
                )
            } else {
                self.chunks.get_mut(&key)
            };
            if let Some(chunk) = chunk {
                f(index, &mut chunk[start..start + len]);
            }
            index = chunk_end;
        }
    }

    /// Every non-zero entry, as `(index, value)`.
    pub(crate) fn nonzero(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.chunks.iter().flat_map(|(&key, chunk)| {
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
        s.for_each_run(500, 600, false, |i, e| runs.push((i, e.len())));
        assert!(runs.is_empty());
        s.for_each_run(500, 600, true, |i, e| {
            runs.push((i, e.len()));
            e.fill(i);
        });
        assert_eq!(runs, [(500, 12), (512, 512), (1024, 76)]);
        assert_eq!(s.get(511), 500);
        assert_eq!(s.get(1099), 1024);
        assert_eq!(s.get(1100), 0);
        assert_eq!(s.nonzero().count(), 600);
    }
}
