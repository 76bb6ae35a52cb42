use super::render::median_round;
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

#[test]
fn a_note_takes_its_figures_from_the_round_with_the_median_ratio() {
    // Ours slow in two rounds where the emulator was fast: medians of the
    // figures taken apart would give 1.20 / 0.25 (4.80x); the rounds'
    // ratios are 2.4, 4.8, 2.2, 4.4, 2.3, and the median one is 2.4.
    let copied = |ours: f64, emu: f64| {
        round(&[
            ("copied_ours_indirect_512", ours),
            ("copied_emulator_512", emu),
        ])
    };
    let rounds = vec![
        copied(1.2, 0.5),
        copied(1.2, 0.25),
        copied(0.55, 0.25),
        copied(1.1, 0.25),
        copied(0.6, 0.26),
    ];
    let r = median_round(&rounds, "copied_ours_indirect_512", "copied_emulator_512").unwrap();
    assert_eq!(r.get("copied_ours_indirect_512").unwrap().0, 1.2);
    assert_eq!(r.get("copied_emulator_512").unwrap().0, 0.5);
    let md = render(&rounds, "test", &[0.5]);
    assert!(
        md.contains("1.20 ns per entry against the emulator's 0.50 (2.40x"),
        "{md}"
    );
    assert!(median_round(&rounds, "copied_ours_indirect_512", "absent").is_none());
}

#[test]
fn a_note_computes_within_each_round_then_takes_the_median() {
    // Per call, ours beyond the floor: 25.6, 102.4 and 10.2 ns in the three
    // rounds (median 25.6); the medians of the figures themselves, taken
    // from different rounds, would give (0.3 - 0.2) * 512 = 51.2.
    // The least locked STUFF beyond the floor: 10.2, 5.1 and 5.1 ns (median
    // 5.1); ours beyond it: 15.4, 97.3 and 5.1 ns (median 15.4), where the
    // difference of the two medians would give 25.6 - 5.1 = 20.5.
    let stuff = |ours: f64, floor: f64, locked: f64, least: f64| {
        round(&[
            ("sweep_ours_stuff_512", ours),
            ("sweep_floor_512", floor),
            ("sweep_locked_floor_512", locked),
            ("sweep_least_stuff_512", least),
        ])
    };
    let rounds = vec![
        stuff(0.2, 0.15, 0.16, 0.17),
        stuff(0.4, 0.2, 0.21, 0.21),
        stuff(0.3, 0.28, 0.29, 0.29),
    ];
    let md = render(&rounds, "test", &[0.5]);
    assert!(
        md.contains("What it adds is per call, 26 ns here against 102 ns"),
        "{md}"
    );
    assert!(
        md.contains(
            "the least locked STUFF, which also finds the window, validates the TCE and kills, 5."
        ),
        "{md}"
    );
    assert!(md.contains("Ours spends 15 ns there"), "{md}");
}

#[test]
fn the_indirect_bound_note_says_what_the_target_leaves_or_that_it_is_past() {
    let indirect = |least: f64| {
        round(&[
            ("sweep_ours_indirect_512", 0.55),
            ("sweep_emulator_512", 0.30),
            ("sweep_least_indirect_512", least),
            ("sweep_floor_512", 0.15),
            ("sweep_locked_floor_512", 0.165),
        ])
    };
    // 1.5 x 0.30 - 0.42 = 0.03 ns per entry: 15 ns a call.
    let md = render(&[indirect(0.42)], "test", &[0.5]);
    assert!(
        md.contains(
            "costs 1.40x the emulator loop here on its own. The target of 1.5x leaves 15 ns a call"
        ),
        "{md}"
    );
    assert!(
        md.contains("alone costs 8 (the floor under a lock)"),
        "{md}"
    );
    let md = render(&[indirect(0.48)], "test", &[0.5]);
    assert!(
        md.contains("costs 1.60x the emulator loop here on its own. That is past the target"),
        "{md}"
    );
}

#[test]
fn the_stuff_breakdown_splits_what_the_call_adds_to_the_floor_within_each_round() {
    // (floor, table, the other stages' factor, whole call) of each round.
    // Beyond the floor's stores the stages add 23, 46 and 38 ns (median
    // 38), where 1.2x the floor allows 15, 30 and 14 (median 15): over by
    // 8, 16 and 24 (median 16). The medians of the figures, taken from
    // different rounds, would give 8+3+(90-75)+3+3+1 = 33 added, and 18
    // over.
    let stuff = |floor: f64, table: f64, k: f64, whole: f64| {
        round(&[
            ("papr_h_stuff_tce_512_alone", whole),
            ("papr_floor_512_alone", floor),
            ("papr_h_stuff_tce_512_stage_lock", 8.0 * k),
            ("papr_h_stuff_tce_512_stage_validate", 3.0 * k),
            ("papr_h_stuff_tce_512_stage_table", table),
            ("papr_h_stuff_tce_512_stage_shadow", 3.0 * k),
            ("papr_h_stuff_tce_512_stage_settle", 3.0 * k),
            ("papr_h_stuff_tce_512_stage_kill", 1.0 * k),
        ])
    };
    let rounds = [
        stuff(75.0, 80.0, 1.0, 100.0),
        stuff(150.0, 160.0, 2.0, 205.0),
        stuff(70.0, 90.0, 1.0, 110.0),
    ];
    let md = render(&rounds, "test", &[0.5]);
    assert!(md.contains("## H_STUFF_TCE of 512 entries"), "{md}");
    // The table shows the round whose call is the median multiple of its
    // floor (1.33, 1.37, 1.57): the second, whose figures add up.
    assert!(md.contains("| sum of the stages | 196.0 |"), "{md}");
    assert!(
        md.contains(
            "| **205.0** |\n| the store floor: 512 stores (`papr_floor_512_alone`) | 150.0 |"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "the call is 1.37x the floor. Beyond the floor's stores its stages add 38 ns, \
             where a ratio of 1.2 allows 15 (over it by 16)"
        ),
        "{md}"
    );
    // Shared with the least locked STUFF: 12, 24, 12; the allowance left:
    // 3, 6, 2; the walk: 5, 10, 20; ours alone: 11, 22, 26.
    assert!(
        md.contains("also does, take 12, and leave 3 ns of the allowance"),
        "{md}"
    );
    assert!(md.contains("less the floor, 10.0)"), "{md}");
    assert!(
        md.contains("(map counts and the dirty log), together 22."),
        "{md}"
    );
    // The whole call beyond its stages: 2, 9 and 2 ns.
    assert!(md.contains("The whole call takes 2 ns more than"), "{md}");
    // Within the allowance, it says so.
    let md = render(&[stuff(75.0, 76.0, 0.5, 90.0)], "test", &[0.5]);
    assert!(md.contains("allows 15 (within it)"), "{md}");
    // A lock that takes the whole allowance leaves nothing.
    let mut locked = stuff(75.0, 80.0, 1.0, 100.0);
    locked.insert(
        "papr_h_stuff_tce_512_stage_lock".into(),
        (20.0, "ns".into()),
    );
    let md = render(&[locked], "test", &[0.5]);
    assert!(md.contains("and leave nothing of the allowance"), "{md}");
    // Stages that sum to more than the call: it says so, not a negative.
    assert!(md.contains("The whole call takes no more than"), "{md}");
}
