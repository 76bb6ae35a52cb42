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
//! and 512 stores. Likewise a batch whose new values form an arithmetic
//! progression (consecutive pages: what a guest lists for one buffer, or one
//! value repeated: `H_STUFF_TCE` over part of a chunk) can be recorded as
//! that progression, and the next batch over the same entries knows the old
//! values without reading them ([`Shadow::replace_batch`],
//! [`Shadow::replace_at`]). Any other access writes the values out first.

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
    /// A run of entries that hold a progression (and are stale in
    /// `entries`). Never set together with `uniform`.
    run: Option<Run>,
}

/// The values `head + i * step` (wrapping) of entries `0, 1, ...` of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Progression {
    pub(crate) head: u64,
    pub(crate) step: u64,
}

impl Progression {
    /// The value of entry `i` of the run.
    #[inline]
    pub(crate) fn at(&self, i: u64) -> u64 {
        self.head.wrapping_add(self.step.wrapping_mul(i))
    }
}

/// Entries `start..start + len` of a chunk, holding `values`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    start: usize,
    len: usize,
    values: Progression,
}

impl Run {
    fn contains(&self, i: usize) -> bool {
        i >= self.start && i - self.start < self.len
    }
}

impl Chunk {
    fn new(key: u64, entries: Box<[u64]>) -> Chunk {
        Chunk {
            key,
            entries,
            uniform: None,
            run: None,
        }
    }

    /// The entries, with a uniform value or a progression written out.
    ///
    /// The chunk's own fields are written only when there is something to
    /// write out: `H_PUT_TCE` calls this every time, and a store to the
    /// small `Chunk` would dirty a line that another partition's small heap
    /// allocations may share.
    #[inline]
    fn entries_mut(&mut self) -> &mut [u64] {
        if let Some(v) = self.uniform {
            self.uniform = None;
            self.entries.fill(v);
        }
        if let Some(r) = self.run {
            self.run = None;
            for (e, i) in self.entries[r.start..r.start + r.len].iter_mut().zip(0..) {
                *e = r.values.at(i);
            }
        }
        &mut self.entries
    }

    /// The value of entry `i` (below [`CHUNK`]).
    fn value(&self, i: usize) -> u64 {
        match (self.uniform, self.run) {
            (Some(v), _) => v,
            (None, Some(r)) if r.contains(i) => r.values.at((i - r.start) as u64),
            _ => self.entries[i],
        }
    }
}

/// Entries of one chunk that exists (see [`Shadow::locate`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Located {
    at: usize,
    start: usize,
    len: usize,
}

/// The old values of a batch's entries (see [`Shadow::replace_batch`]).
pub(crate) enum BatchOld<'a> {
    /// The entries hold this progression.
    Progression(Progression),
    /// The entries themselves.
    Entries(&'a [u64]),
}

/// The new values of a batch's entries (see [`Shadow::replace_batch`]).
pub(crate) enum BatchNew<'a> {
    /// Entry `i` gets `at(i)`: recorded as the progression.
    Progression(Progression),
    /// Entry `i` gets `values[i]`: copied.
    Entries(&'a [u64]),
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
            Ok(at) => self.chunks[at].value((index as usize) & (CHUNK - 1)),
            Err(_) => 0,
        }
    }

    /// Where entries `[first, first + count)` (`count > 0`) lie, if they lie
    /// in one chunk that exists: found once, for a caller that checks
    /// before it stores and replaces the values after
    /// ([`fill_at`](Self::fill_at)).
    #[inline]
    pub(crate) fn locate(&self, first: u64, count: u64) -> Option<Located> {
        let key = first >> CHUNK_SHIFT;
        let end = first.checked_add(count)?;
        if count == 0 || (end - 1) >> CHUNK_SHIFT != key {
            return None;
        }
        let at = self.find(key).ok()?;
        let start = (first as usize) & (CHUNK - 1);
        Some(Located {
            at,
            start,
            len: count as usize,
        })
    }

    /// [`fill`](Self::fill) of the entries `run` names (from
    /// [`locate`](Self::locate), the shadow unchanged since): one chunk,
    /// no search, no entry written. A whole chunk records the value; part of
    /// one records a run of it ([`replace_at`](Self::replace_at)), which the
    /// next call over the same entries settles without reading them.
    /// `settle` gets the old values (one value repeated as a progression of
    /// step 0); returns what it returned.
    #[inline]
    pub(crate) fn fill_at<R>(
        &mut self,
        run: Located,
        value: u64,
        settle: impl FnOnce(BatchOld<'_>) -> R,
    ) -> R {
        if run.len != CHUNK {
            let same = Progression {
                head: value,
                step: 0,
            };
            return self.replace_at(run, BatchNew::Progression(same), settle);
        }
        let c = &mut self.chunks[run.at];
        let settled = settle(match c.uniform {
            Some(head) => BatchOld::Progression(Progression { head, step: 0 }),
            None => BatchOld::Entries(c.entries_mut()),
        });
        c.uniform = Some(value);
        settled
    }

    /// The guest value of entry `index`, to change it in place, if its chunk
    /// exists (a chunk kept as one value or holding a progression has it
    /// written out first).
    #[inline]
    pub(crate) fn entry_mut(&mut self, index: u64) -> Option<&mut u64> {
        let at = self.find(index >> CHUNK_SHIFT).ok()?;
        self.chunks[at]
            .entries_mut()
            .get_mut((index as usize) & (CHUNK - 1))
    }

    /// Entries `[first, first + count)` (`count > 0`), if they lie in one
    /// chunk that exists and holds its entries one by one.
    #[cfg(test)]
    pub(crate) fn run(&self, first: u64, count: u64) -> Option<&[u64]> {
        let key = first >> CHUNK_SHIFT;
        let end = first.checked_add(count)?;
        if count == 0 || (end - 1) >> CHUNK_SHIFT != key {
            return None;
        }
        let c = &self.chunks[self.find(key).ok()?];
        let start = (first as usize) & (CHUNK - 1);
        match (c.uniform, c.run) {
            (None, None) => c.entries.get(start..start + count as usize),
            _ => None,
        }
    }

    /// Replaces entries `[first, first + count)` (`count > 0`) by `new`, if
    /// they lie in one chunk that exists, first calling `settle` with their
    /// old values: the progression they hold when that is known without
    /// reading them (they were set as one, or the chunk holds one value),
    /// else the entries. A new progression is recorded, not written out.
    /// Returns what `settle` returned, or `None` (nothing called, nothing
    /// changed) if the entries are not in one chunk that exists. Whatever
    /// else the chunk holds as a value or progression may be written out
    /// (what every entry reads as does not change).
    pub(crate) fn replace_batch<R>(
        &mut self,
        first: u64,
        count: u64,
        new: BatchNew<'_>,
        settle: impl FnOnce(BatchOld<'_>) -> R,
    ) -> Option<R> {
        let run = self.locate(first, count)?;
        Some(self.replace_at(run, new, settle))
    }

    /// [`replace_batch`](Self::replace_batch) of the entries `run` names
    /// (from [`locate`](Self::locate), the shadow unchanged since): no
    /// search.
    #[inline]
    pub(crate) fn replace_at<R>(
        &mut self,
        run: Located,
        new: BatchNew<'_>,
        settle: impl FnOnce(BatchOld<'_>) -> R,
    ) -> R {
        let Located { at, start, len } = run;
        let c = &mut self.chunks[at];
        let settled = match (c.uniform, c.run) {
            // A progression over exactly these entries: replaced as a whole.
            (None, Some(r)) if r.start == start && r.len == len => {
                c.run = None;
                settle(BatchOld::Progression(r.values))
            }
            (Some(value), _) => {
                c.entries_mut();
                settle(BatchOld::Progression(Progression {
                    head: value,
                    step: 0,
                }))
            }
            (None, Some(r)) if r.contains(start) && r.contains(start + len - 1) => {
                c.entries_mut();
                settle(BatchOld::Progression(Progression {
                    head: r.values.at((start - r.start) as u64),
                    step: r.values.step,
                }))
            }
            _ => settle(BatchOld::Entries(&c.entries_mut()[start..start + len])),
        };
        // Nothing is recorded over these entries now.
        match new {
            BatchNew::Progression(values) => {
                c.run = Some(Run { start, len, values });
            }
            BatchNew::Entries(values) => c.entries[start..start + len].copy_from_slice(values),
        }
        settled
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
                self.chunks
                    .insert(at, Chunk::new(key, entries.into_boxed_slice()));
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
                        None => Old::Entries(c.entries_mut()),
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
                let v = c.value(i);
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

    /// Random batches, fills and runs against a plain array: every entry
    /// always reads as the model says, a batch's old values are the model's
    /// (as a progression exactly when one was recorded or the chunk held one
    /// value), and a recorded progression saves the copy.
    #[test]
    fn batches_recorded_as_progressions_read_as_their_values() {
        const N: u64 = 3 * CHUNK as u64;
        let mut s = Shadow::default();
        let mut model = vec![0u64; N as usize];
        let mut next = crate::test_rand::xorshift(0x0bad_cafe_1234_5678);
        let mut rand = move |below: u64| next() % below;
        s.reserve(0, N).unwrap();
        let mut known = 0;
        for round in 0..4000 {
            // Ranges that repeat often (the same buffer mapped again), and
            // ranges that overlap them.
            let (first, count) = match rand(4) {
                0 => (100, 50),
                1 => (512, 512),
                2 => (90 + rand(40), 1 + rand(80)),
                _ => {
                    let first = rand(N);
                    (first, 1 + rand((N - first).min(600)))
                }
            };
            let range = first as usize..(first + count) as usize;
            match rand(8) {
                0 => {
                    let v = rand(1 << 30);
                    let mut olds = Vec::new();
                    s.fill(first, count, v, |old| match old {
                        Old::Same { value, n } => olds.extend((0..n).map(|_| value)),
                        Old::Entries(e) => olds.extend_from_slice(e),
                    });
                    assert_eq!(olds, model[range.clone()], "round {round}");
                    model[range].fill(v);
                }
                1 => s.for_each_run(first, count, |i, e| {
                    for (k, e) in e.iter_mut().enumerate() {
                        *e = i * 7 + k as u64;
                        model[i as usize + k] = *e;
                    }
                }),
                _ => {
                    let p = Progression {
                        head: rand(1 << 30),
                        step: [0, 0x1000, 0x10000, 5][rand(4) as usize],
                    };
                    let values: Vec<u64> = (0..count).map(|i| p.at(i) ^ rand(2)).collect();
                    let (new, expect) = match rand(2) {
                        0 => (
                            BatchNew::Progression(p),
                            (0..count).map(|i| p.at(i)).collect::<Vec<_>>(),
                        ),
                        _ => (BatchNew::Entries(&values), values.clone()),
                    };
                    let run = s.run(first, count).map(<[u64]>::to_vec);
                    let old = s.replace_batch(first, count, new, |old| match old {
                        BatchOld::Progression(p) => {
                            known += 1;
                            (0..count).map(|i| p.at(i)).collect::<Vec<_>>()
                        }
                        BatchOld::Entries(e) => e.to_vec(),
                    });
                    let in_one = (first >> CHUNK_SHIFT) == ((first + count - 1) >> CHUNK_SHIFT);
                    assert_eq!(old.is_some(), in_one, "round {round}");
                    if let Some(old) = old {
                        assert_eq!(old, model[range.clone()], "round {round}");
                        assert!(run.is_none_or(|r| r == old), "round {round}");
                        model[range].copy_from_slice(&expect);
                    }
                }
            }
            for _ in 0..8 {
                let i = rand(N);
                assert_eq!(s.get(i), model[i as usize], "round {round} entry {i}");
            }
        }
        assert!(known > 100, "{known}");
        let all: Vec<(u64, u64)> = s.nonzero().collect();
        let want: Vec<(u64, u64)> = (0..N)
            .filter(|&i| model[i as usize] != 0)
            .map(|i| (i, model[i as usize]))
            .collect();
        assert_eq!(all, want);
        s.for_each_run(0, N, |i, e| assert_eq!(e, &model[i as usize..][..e.len()]));
    }
}
