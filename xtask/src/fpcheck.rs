//! Proof that the routed OPAL calls reach no FP, VMX or VSX instruction in
//! the skiboot image (skiboot runs with MSR[FP|VEC|VSX] off; one such
//! instruction inside an OPAL call is a "FP/VSX unavailable" interrupt and
//! a Linux oops).
//!
//! The check disassembles `skiboot.elf` (`objdump -d`) and walks the call
//! graph from the routed entry points: every direct branch to another
//! function (`bl`, a tail-call `b`, a conditional branch) is an edge. An
//! indirect branch (`bctr`, `bctrl`) could go to any function whose address
//! is taken; skiboot is position-independent, so every stored code address
//! has an `R_PPC64_RELATIVE` relocation, and once any reachable function
//! branches indirectly, every function such a relocation points at becomes
//! reachable too. Conservative: it may count more than runs, never less.
//!
//! The instructions are checked in the library's functions (those defined
//! in the linked `libpnv_iommu_capi.a`: the library, Rust's core, alloc and
//! compiler_builtins). skiboot's own C is compiled with `-msoft-float
//! -mno-altivec -mno-vsx`; its jump tables sit in `.text`, where objdump
//! decodes some offsets as FP instructions, so its functions are walked
//! through but not scanned.

use object::{Object, ObjectSection};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Where the routed calls enter: the shim's OPAL wrappers and phb_ops
/// entries (C), and the library functions they call.
pub const ROOTS: &[&str] = &[
    "opal_map",
    "opal_map_real",
    "opal_kill",
    "routed_map_pe_dma_window",
    "routed_map_pe_dma_window_real",
    "routed_tce_kill",
    "pnv_opal_map_pe_dma_window",
    "pnv_opal_map_pe_dma_window_real",
    "pnv_opal_tce_kill",
    "pnv_iommu_phb_tve",
];

/// Result of the walk.
#[derive(Debug)]
pub struct Report {
    /// Functions reachable from the roots.
    pub reachable: usize,
    /// Of those, the library's (scanned).
    pub reachable_library: usize,
    /// Reachable library functions with an FP/VMX/VSX instruction, with one
    /// example instruction each.
    pub offending: Vec<(String, String)>,
    /// Library functions in the image with such an instruction (the
    /// scanner sees them: the control that it can find any).
    pub image_offending: usize,
    /// Whether an indirect branch was reachable (address-taken functions
    /// were then added).
    pub indirect: bool,
}

/// One disassembled function.
#[derive(Default)]
struct Function {
    /// Names of functions it branches to directly.
    calls: BTreeSet<u64>,
    /// An FP/VMX/VSX instruction in it, if any.
    vector_or_fp: Option<String>,
    /// It has a `bctr`/`bctrl`.
    indirect: bool,
}

/// Checks `elf`, an ELFv2 big-endian skiboot image that linked `library`
/// (the static archive); `cross` is the binutils prefix (its objdump is
/// used).
pub fn check(elf: &Path, library: &Path, cross: &str) -> Result<Report, String> {
    let objdump = format!("{cross}objdump");
    let library_functions = archive_functions(library)?;
    let out = Command::new(&objdump)
        .args(["-d", "--no-show-raw-insn"])
        .arg(elf)
        .output()
        .map_err(|e| format!("{objdump}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{objdump} -d {} failed", elf.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let address_taken = relative_targets(&bytes)?;
    walk(&text, &address_taken, &library_functions)
}

/// The call-graph walk over `objdump -d` text; `scanned` names the
/// functions whose instructions are checked.
fn walk(
    disassembly: &str,
    address_taken: &BTreeSet<u64>,
    scanned: &BTreeSet<String>,
) -> Result<Report, String> {
    let (names, functions) = parse(disassembly);
    let starts: Vec<u64> = functions.keys().copied().collect();
    let owner = |addr: u64| -> Option<u64> {
        let i = starts.partition_point(|&s| s <= addr);
        i.checked_sub(1).map(|i| starts[i])
    };
    let mut todo: Vec<u64> = Vec::new();
    for root in ROOTS {
        let start = names
            .iter()
            .find(|(_, n)| n.as_str() == *root)
            .map(|(a, _)| *a)
            .ok_or_else(|| format!("routed entry point {root} is not in the image"))?;
        todo.push(start);
    }
    let mut seen = BTreeSet::new();
    let mut indirect = false;
    while let Some(f) = todo.pop() {
        if !seen.insert(f) {
            continue;
        }
        let func = &functions[&f];
        for &target in &func.calls {
            if let Some(o) = owner(target) {
                todo.push(o);
            }
        }
        if func.indirect && !indirect {
            indirect = true;
            todo.extend(address_taken.iter().filter_map(|&a| owner(a)));
        }
    }
    let is_scanned = |f: &u64| scanned.contains(&names[f]);
    let offending = seen
        .iter()
        .filter(|f| is_scanned(f))
        .filter_map(|f| {
            let insn = functions[f].vector_or_fp.clone()?;
            Some((names[f].clone(), insn))
        })
        .collect();
    Ok(Report {
        reachable: seen.len(),
        reachable_library: seen.iter().filter(|f| is_scanned(f)).count(),
        offending,
        image_offending: functions
            .iter()
            .filter(|(a, f)| is_scanned(a) && f.vector_or_fp.is_some())
            .count(),
        indirect,
    })
}

/// Functions by start address, and their names.
fn parse(disassembly: &str) -> (BTreeMap<u64, String>, BTreeMap<u64, Function>) {
    let mut names = BTreeMap::new();
    let mut functions: BTreeMap<u64, Function> = BTreeMap::new();
    let mut current = None;
    for line in disassembly.lines() {
        // `0000000000120940 <pnv_opal_tce_kill>:`
        if let Some((addr, rest)) = line.split_once(" <")
            && let (Ok(a), Some(name)) = (u64::from_str_radix(addr, 16), rest.strip_suffix(">:"))
        {
            names.insert(a, name.to_string());
            functions.entry(a).or_default();
            current = Some(a);
            continue;
        }
        // `  120984:\tbne-    12099c <pnv_opal_tce_kill+0x5c>`
        let Some(f) = current.and_then(|c| functions.get_mut(&c)) else {
            continue;
        };
        let mut fields = line.trim_start().splitn(3, '\t');
        let (Some(addr), Some(insn)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !addr.ends_with(':') {
            continue;
        }
        let mut words = insn.split_whitespace();
        let mnemonic = words.next().unwrap_or("");
        if is_fp_or_vector(mnemonic) && f.vector_or_fp.is_none() {
            f.vector_or_fp = Some(format!("{} {insn}", addr.trim_end_matches(':')));
        }
        if mnemonic.starts_with("bctr") {
            f.indirect = true;
        } else if mnemonic.starts_with('b') && insn.contains('<') {
            // The target is the hex number before `<`; `bdnz`, `beq cr1,...`
            // and friends name it the same way.
            let target = insn
                .split('<')
                .next()
                .and_then(|s| s.split([' ', ',']).rfind(|w| !w.is_empty()))
                .and_then(|w| u64::from_str_radix(w, 16).ok());
            if let Some(t) = target {
                f.calls.insert(t);
            }
        }
    }
    (names, functions)
}

/// Names of the functions defined in the static archive `library` (every
/// member object's function symbols).
fn archive_functions(library: &Path) -> Result<BTreeSet<String>, String> {
    use object::read::archive::ArchiveFile;
    use object::{ObjectSymbol, SymbolKind};
    let bytes = std::fs::read(library).map_err(|e| format!("{}: {e}", library.display()))?;
    let archive = ArchiveFile::parse(&*bytes).map_err(|e| format!("{}: {e}", library.display()))?;
    let mut names = BTreeSet::new();
    for member in archive.members() {
        let member = member.map_err(|e| e.to_string())?;
        let data = member.data(&*bytes).map_err(|e| e.to_string())?;
        // ar aligns members to 2 bytes; the ELF reader wants its headers
        // aligned: copy the member into 8-byte-aligned memory.
        let mut aligned = vec![0u64; data.len().div_ceil(8)];
        let buf = &mut bytemuck_bytes(&mut aligned)[..data.len()];
        buf.copy_from_slice(data);
        // Members that are not objects (the rlib metadata) have no code.
        let Ok(obj) = object::File::parse(&*buf) else {
            continue;
        };
        for sym in obj.symbols() {
            if sym.kind() == SymbolKind::Text
                && sym.is_definition()
                && let Ok(n) = sym.name()
            {
                names.insert(n.to_string());
            }
        }
    }
    Ok(names)
}

/// The bytes of `words`.
fn bytemuck_bytes(words: &mut [u64]) -> &mut [u8] {
    let len = std::mem::size_of_val(words);
    // SAFETY: u64 has no padding and every byte pattern is a valid u8; the
    // slice covers exactly the words' memory and borrows it mutably.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) }
}

/// Floating-point, VMX (Altivec) and VSX mnemonics of the Power ISA.
pub fn is_fp_or_vector(m: &str) -> bool {
    const PREFIXES: &[&str] = &[
        // FP arithmetic (fadd, fmr, fcmpu, ...), loads and stores, FPSCR.
        "f", "lf", "stf", "mffs", "mtfs", "mcrfs",
        // VMX: arithmetic (vaddubm, vperm, ...), loads, stores, VSCR, streams.
        "v", "lv", "stv", "mfvscr", "mtvscr", "dss", "dst",
        // VSX: arithmetic, loads, stores, moves to/from GPRs.
        "xx", "xs", "xv", "lx", "stx", "mfvsr", "mtvsr",
    ];
    PREFIXES.iter().any(|p| m.starts_with(p))
}

/// Targets of the image's `R_PPC64_RELATIVE` relocations (every stored
/// address, including every function pointer and vtable entry).
fn relative_targets(elf: &[u8]) -> Result<BTreeSet<u64>, String> {
    const R_PPC64_RELATIVE: u64 = 22;
    let file = object::File::parse(elf).map_err(|e| e.to_string())?;
    let rela = file
        .section_by_name(".rela.dyn")
        .ok_or("skiboot.elf has no .rela.dyn")?
        .data()
        .map_err(|e| e.to_string())?;
    let be = |b: &[u8]| u64::from_be_bytes(b.try_into().unwrap());
    Ok(rela
        .chunks_exact(24)
        .filter(|r| be(&r[8..16]) & 0xffff_ffff == R_PPC64_RELATIVE)
        .map(|r| be(&r[16..24]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(extra_in_kill: &str) -> String {
        let mut s = String::new();
        for (i, root) in ROOTS.iter().enumerate() {
            s += &format!("{:016x} <{root}>:\n", 0x1000 + i * 0x100);
            s += &format!("  {:x}:\tmflr    r0\n", 0x1000 + i * 0x100);
        }
        s += "0000000000002000 <helper>:\n    2000:\tld      r3,0(r4)\n";
        s += &format!("    2004:\t{extra_in_kill}\n");
        s += "0000000000003000 <unreached_float>:\n    3000:\tlfd     f1,0(r3)\n";
        s += "0000000000004000 <pointed_to>:\n    4000:\txxlor   vs0,vs1,vs1\n";
        // pnv_opal_tce_kill (the 9th root) calls helper.
        s = s.replace(
            "  1800:\tmflr    r0\n",
            "  1800:\tmflr    r0\n  1804:\tbl      2000 <helper>\n",
        );
        s
    }

    #[test]
    fn a_reachable_vsx_instruction_is_found_and_an_unreached_one_is_not() {
        let taken: BTreeSet<u64> = [0x4000].into();
        let mut scanned: BTreeSet<String> = ["helper", "unreached_float", "pointed_to"]
            .map(String::from)
            .into();
        scanned.extend(ROOTS.iter().map(|r| r.to_string()));
        let walk = |img: &str| walk(img, &taken, &scanned);
        let clean = walk(&image("blr")).unwrap();
        assert!(clean.offending.is_empty(), "{clean:?}");
        assert_eq!(clean.image_offending, 2);
        assert!(!clean.indirect);

        let dirty = walk(&image("lxvd2x  vs0,0,r3")).unwrap();
        assert_eq!(dirty.offending.len(), 1);
        assert_eq!(dirty.offending[0].0, "helper");

        // An indirect call makes every address-taken function reachable.
        let indirect = walk(&image("bctrl")).unwrap();
        assert!(indirect.indirect);
        assert_eq!(indirect.offending[0].0, "pointed_to");
    }

    #[test]
    fn mnemonics() {
        for m in [
            "fadd", "lfd", "stfd", "mffs", "vperm", "lvx", "stvx", "xxlor", "lxvd2x", "stxvd2x",
            "mtvsrd",
        ] {
            assert!(is_fp_or_vector(m), "{m}");
        }
        for m in [
            "ld", "std", "lwz", "stdcx.", "mflr", "bl", "addi", "lbarx", "sync",
        ] {
            assert!(!is_fp_or_vector(m), "{m}");
        }
    }
}
