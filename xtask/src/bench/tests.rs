use super::*;

fn round(figures: &[(&str, f64)]) -> Round {
    figures
        .iter()
        .map(|&(n, v)| (n.to_string(), (v, "ns/tce".to_string())))
        .collect()
}

#[test]
fn targets_match_by_name_or_prefix() {
    assert!(matches!(
        target_for("tce_map_dense_4k_1lvl").unwrap().limit,
        Limit::AtMost(3.0)
    ));
    assert!(target_for("tce_unmap_dense_4k_1lvl").is_none());
    assert!(Limit::AtLeast(1.8).met(1.9) && !Limit::AtLeast(1.8).met(1.7));
    assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
}

#[test]
fn ratios_are_per_round_and_judged_on_their_median() {
    // The absolute figures move together between rounds; the ratio does not.
    let rounds = vec![
        round(&[
            ("sweep_ours_indirect_512", 1.0),
            ("sweep_emulator_512", 0.8),
        ]),
        round(&[
            ("sweep_ours_indirect_512", 2.0),
            ("sweep_emulator_512", 1.6),
        ]),
        round(&[
            ("sweep_ours_indirect_512", 0.6),
            ("sweep_emulator_512", 0.3),
        ]),
        round(&[
            ("sweep_ours_indirect_512", 1.1),
            ("sweep_emulator_512", 0.2),
        ]),
        round(&[("tce_map_dense_4k_1lvl", 4.0)]),
    ];
    let per = ratio_per_round(&rounds, &RATIOS[0]);
    assert_eq!(&per[..3], &[1.25, 1.25, 2.0]);
    assert!(per[4].is_nan());
    let md = render(&rounds, "test", &[0.5, 0.7]);
    assert!(
        md.contains("| INDIRECT(512) / emulator loop | 1.25 | 1.25 | 2.00 | 5.50 | NaN | **1.62** | <= 1.5 (**not met**) |"),
        "{md}"
    );
    assert!(md.contains("| `tce_map_dense_4k_1lvl` | 4.00 | 4.00 | ns/tce | <= 3 (**not met**) |"));
    assert!(md.contains("| 512 | 1.05 |"), "sweep row: {md}");
    assert!(!md.contains("loaded machine"));
    assert!(render(&rounds, "test", &[2.5]).contains("loaded machine"));
    let svg = plot::sweep_svg("t", &lines(&rounds)).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("emulator loop"));
}
