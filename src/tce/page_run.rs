//! Runs of consecutive pages as big-endian words, without a byte swap.
//!
//! A guest lists one buffer as consecutive pages, and the table holds them
//! as consecutive big-endian entries. Splitting the first value `head` into
//! its page number within a block of 512 pages, `j`, and the rest, `base`,
//! entry `i` of the run is `base | (j + i) * page` while `j + i < 512`, then
//! `(base + 512 * page) | (j + i - 512) * page`: each the OR of two values
//! with no bit in common, so big-endian the exclusive-or of their
//! big-endian forms, one of them from a table of big-endian page numbers.
//! Checking a listed run, or storing one, is then one branch-free pass of
//! exclusive-ors on the words as they lie in memory.

use core::sync::atomic::AtomicU64;

use super::batch::store_each;

/// `(k << shift).to_be()` for `k` in `0..512`: page `k` of a 512-page
/// block, big-endian.
const fn be_pages(shift: u32) -> [u64; 512] {
    let mut t = [0u64; 512];
    let mut k = 0;
    while k < 512 {
        t[k] = ((k as u64) << shift).to_be();
        k += 1;
    }
    t
}

static BE_PAGES_4K: [u64; 512] = be_pages(12);
static BE_PAGES_64K: [u64; 512] = be_pages(16);

/// The run of pages of one size from a first value, as its two segments:
/// entries `i < 512 - j` are `table[j + i] ^ c0`, later ones
/// `table[i - (512 - j)] ^ c1` (all big-endian).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BePageRun {
    j: usize,
    c0: u64,
    c1: u64,
    table: &'static [u64; 512],
}

impl BePageRun {
    /// The run `head + i * page` (wrapping past 2^64), for pages of 4 KiB
    /// or 64 KiB; `None` for other sizes.
    #[inline(always)]
    pub(crate) fn new(head: u64, page: u64) -> Option<BePageRun> {
        let table = match page {
            0x1000 => &BE_PAGES_4K,
            0x1_0000 => &BE_PAGES_64K,
            _ => return None,
        };
        // Shifts, not divisions: `page` is a power of two.
        let shift = page.trailing_zeros();
        let base = head & !(511 << shift);
        Some(BePageRun {
            j: ((head >> shift) & 511) as usize,
            c0: base.to_be(),
            c1: base.wrapping_add(512 << shift).to_be(),
            table,
        })
    }

    /// Whether the words `list` (at most 512; `raw` gives each one's bits
    /// as they lie in memory) are the run's first entries. Each word is
    /// read once.
    #[inline(always)]
    pub(crate) fn is_listed<W: Copy>(&self, list: &[W], raw: impl Fn(W) -> u64) -> bool {
        if list.len() > self.table.len() {
            return false;
        }
        let (a, b) = list.split_at((self.table.len() - self.j).min(list.len()));
        let miss = |list: &[W], table: &[u64], c: u64| {
            // Eight at a time, as `store`.
            let (list8, list_rest) = list.as_chunks::<8>();
            let (table8, table_rest) = table[..list.len()].as_chunks::<8>();
            let mut miss = [0u64; 8];
            for (g, t) in list8.iter().zip(table8) {
                for ((m, &g), &t) in miss.iter_mut().zip(g).zip(t) {
                    *m |= raw(g) ^ t ^ c;
                }
            }
            let mut rest = 0;
            for (&g, &t) in list_rest.iter().zip(table_rest) {
                rest |= raw(g) ^ t ^ c;
            }
            miss.iter().fold(rest, |a, &m| a | m)
        };
        miss(a, &self.table[self.j..], self.c0) | miss(b, self.table, self.c1) == 0
    }

    /// Stores the run's first `entries.len()` entries (at most 512), each
    /// with one 8-byte store.
    #[inline(always)]
    pub(crate) fn store(&self, entries: &[AtomicU64]) {
        let (a, b) = entries.split_at((self.table.len() - self.j).min(entries.len()));
        let (c0, c1) = (self.c0, self.c1);
        store_each(a, &self.table[self.j..], |t| t ^ c0);
        store_each(b, self.table, |t| t ^ c1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::Ordering;

    /// Whether `list` is `head + i * page` (wrapping), entry by entry: the
    /// model.
    fn is_progression(list: &[u64], head: u64, page: u64) -> bool {
        (0..)
            .zip(list)
            .all(|(i, &v)| v == head.wrapping_add(page.wrapping_mul(i)))
    }

    /// Runs from heads anywhere (in a block, at its last page, near 2^64),
    /// lists that wrap inside their block instead, and near misses: the
    /// big-endian test says what the model says, and a stored run is the
    /// progression.
    #[test]
    fn big_endian_page_runs_are_exactly_the_progressions() {
        let mut rand = crate::test_rand::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut runs = 0;
        for page in [1u64 << 12, 1 << 16] {
            for round in 0..3000 {
                let block = 512 * page;
                let head = match round % 4 {
                    0 => rand(),
                    1 => (rand() & !(block - 1)) | (block - page) | (rand() % page),
                    2 => u64::MAX - (rand() % (4 * page)),
                    _ => (rand() % 8) * page + (rand() % page),
                };
                let n = (rand() % 512) as usize + 1;
                let run = BePageRun::new(head, page).unwrap();
                let progression: Vec<u64> = (0..n as u64)
                    .map(|i| head.wrapping_add(i.wrapping_mul(page)))
                    .collect();
                let entries: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
                run.store(&entries);
                let stored: Vec<u64> = entries
                    .iter()
                    .map(|e| u64::from_be(e.load(Ordering::Relaxed)))
                    .collect();
                assert_eq!(stored, progression, "page {page:#x} head {head:#x} n {n}");
                let mut list = progression;
                match rand() % 4 {
                    // Wrapping inside the block instead of carrying.
                    0 => {
                        let base = head & !(block - page);
                        let j = (head % block) / page;
                        for (i, v) in list.iter_mut().enumerate() {
                            *v = base | (((j + i as u64) % 512) * page);
                        }
                    }
                    // One bit off somewhere.
                    1 => {
                        let i = (rand() as usize) % n;
                        list[i] ^= 1 << (rand() % 64);
                    }
                    // The same bit off in two entries (differences that
                    // would cancel).
                    2 => {
                        let bit = 1 << (rand() % 64);
                        let (i, k) = ((rand() as usize) % n, (rand() as usize) % n);
                        list[i] ^= bit;
                        if k != i {
                            list[k] ^= bit;
                        }
                    }
                    _ => {}
                }
                let be: Vec<u64> = list.iter().map(|v| v.to_be()).collect();
                let plain = is_progression(&list, head, page);
                runs += usize::from(plain);
                assert_eq!(
                    run.is_listed(&be, |w| w),
                    plain,
                    "page {page:#x} head {head:#x} n {n}"
                );
            }
        }
        assert!(runs > 1000, "{runs}");
        assert!(BePageRun::new(0, 1 << 21).is_none());
    }
}
