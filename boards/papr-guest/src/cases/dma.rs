//! DMA by the `edu` device through TCEs the guest put with
//! H_PUT_TCE_INDIRECT: RAM → device through one page, device → RAM through
//! the next, then the bytes are compared.

use super::*;
use crate::detail;
use crate::report::Extra;

/// Bytes moved each way.
const LEN: u64 = 256;
/// What the destination holds before the transfer.
const FILL: u8 = 0xee;

fn pattern(seed: u8) -> impl Fn(u64) -> u8 {
    move |i| (i as u8).wrapping_mul(7).wrapping_add(seed)
}

/// DMA through the default window, 1 MiB + 2 MiB into it.
pub(super) fn default_window(s: &mut Suite) {
    let iova = s.p.phb.window_start + 0x20_0000;
    through_window(
        s,
        "dma_default_window_edu",
        s.p.phb.liobn,
        iova,
        DEFAULT_PAGE,
        0x5a,
    );
}

/// A TCE naming memory outside the partition (the first page past its RAM)
/// is refused, and a device write to that IOBA then lands nowhere: the
/// guest's own pages keep their contents, and the hypervisor checks that its
/// memory at the address a forgotten translation would reach is untouched.
pub(super) fn outside_partition(s: &mut Suite) {
    let name = "dma_outside_partition_edu";
    if s.p.edu.is_none() {
        s.report.skip(
            name,
            H_PARAMETER,
            detail!("no edu device in the device tree"),
        );
        return;
    }
    let liobn = s.p.phb.liobn;
    let iova = s.p.phb.window_start + 0x30_0000;
    let st = put(liobn, iova, s.outside_ram() | TCE_RW);
    work::fill(Region::DmaDst, 0, 2 * LEN, |_| FILL);
    let extra: Extra = match s.edu() {
        None => Err(detail!("no edu")),
        Some(Err(e)) => Err(detail!("edu set-up: {e:?}")),
        Some(Ok(edu)) => match edu.dma_to_ram(0, iova, LEN) {
            Err(e) => Err(detail!("edu transfer: {e:?}")),
            Ok(()) => match work::mismatch(Region::DmaDst, 0, 2 * LEN, |_| FILL) {
                Some(i) => Err(detail!("byte {i} of the guest's page changed")),
                None => Ok(()),
            },
        },
    };
    s.report.check(name, H_PARAMETER, st, extra);
    put(liobn, iova, 0);
}

/// DMA through `liobn` at `iova` with pages of `page` bytes: the source
/// page gets an R-only TCE, the destination page a W-only TCE.
pub(super) fn through_window(
    s: &mut Suite,
    name: &str,
    liobn: u32,
    iova: u64,
    page: u64,
    seed: u8,
) {
    if s.p.edu.is_none() {
        s.report
            .skip(name, OK, detail!("no edu device in the device tree"));
        return;
    }
    let (src, dst) = (Region::DmaSrc.addr(0), Region::DmaDst.addr(0));
    let list = tce_list(&[src | TCE_R, dst | TCE_W]);
    let st = indirect(liobn, iova, list, 2);
    if st != OK {
        s.report
            .check(name, OK, st, Err(detail!("H_PUT_TCE_INDIRECT failed")));
        return;
    }
    work::fill(Region::DmaSrc, 0, LEN, pattern(seed));
    work::fill(Region::DmaDst, 0, 2 * LEN, |_| FILL);
    let extra: Extra = match s.edu() {
        None => Err(detail!("no edu")),
        Some(Err(e)) => Err(detail!("edu set-up: {e:?}")),
        Some(Ok(edu)) => match edu
            .dma_from_ram(iova, 0, LEN)
            .and_then(|()| edu.dma_to_ram(0, iova + page, LEN))
        {
            Err(e) => Err(detail!("edu transfer: {e:?}")),
            Ok(()) => {
                if let Some(i) = work::mismatch(Region::DmaDst, 0, LEN, pattern(seed)) {
                    Err(detail!("byte {i} of the copy differs"))
                } else if let Some(i) = work::mismatch(Region::DmaDst, LEN, LEN, |_| FILL) {
                    Err(detail!("byte {} past the copy changed", LEN + i))
                } else {
                    Ok(())
                }
            }
        },
    };
    s.report.check(name, OK, st, extra);
    stuff(liobn, iova, 0, 2);
}
