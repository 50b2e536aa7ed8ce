//! Bad arguments to any subcommand: one line, `error: ...`, and exit status
//! 1, as the stages answer them; never a panic, a backtrace, or a run
//! that does not end. Each is refused before anything starts.

use std::time::Duration;

use harness::command::run;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// Runs `workshop` with `args`, which must be refused; returns its one line.
fn refused(args: &[&str]) -> String {
    let ran = run(WORKSHOP, args, "", 1, Duration::from_secs(30));
    let stderr = ran.stderr;
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1,
        "{args:?} should be one line, `error: ...`:\n{stderr}"
    );
    assert!(ran.stdout.is_empty(), "{args:?}: {}", ran.stdout);
    stderr
}

#[test]
fn absurd_durations_are_one_line_and_exit_1_saying_the_bounds() {
    for (args, bounds) in [
        (
            &["compare", "--timeout", "18446744073709551615s"][..],
            "from 100ms to 1m",
        ),
        (&["compare", "--timeout", "1000000000y"], "from 100ms to 1m"),
        (&["compare", "--timeout", "10ms"], "from 100ms to 1m"),
        (
            &["load", "--limit", "18446744073709551615s", "hold"],
            "from 1ms to 1h",
        ),
        (&["load", "hold", "--hold", "1000000000y"], "from 0s to 1h"),
        (
            &["client", "--send", "x", "--every", "1000000000y"],
            "from 0s to 1h",
        ),
        (
            &["client", "--idle", "18446744073709551615s"],
            "from 0s to 1h",
        ),
    ] {
        let line = refused(args);
        assert!(line.contains(bounds), "{args:?}: {line}");
    }
}

#[test]
fn sizes_too_large_to_count_are_one_line_and_exit_1_saying_the_bounds() {
    let digits = "9".repeat(60);
    for (args, bounds) in [
        (
            &["load", "flood", "-b", "17179869184GiB"][..],
            "from 1B to 1TiB",
        ),
        (&["load", "flood", "-b", "2TiB"], "from 1B to 1TiB"),
        (
            &["load", "flood", "-b", &format!("{digits}TiB")],
            "from 1B to 1TiB",
        ),
        (
            &["bench", "--bytes", "17179869184GiB"],
            "from 1KiB to 64GiB",
        ),
        (
            &["bench", "--bytes", "18446744073709551616"],
            "from 1KiB to 64GiB",
        ),
        (&["bench", "--bytes", &digits], "from 1KiB to 64GiB"),
    ] {
        let line = refused(args);
        assert!(line.contains(bounds), "{args:?}: {line}");
    }
}

#[test]
fn a_negative_size_is_said_to_be_one() {
    for args in [
        &["load", "flood", "-b=-5"][..],
        &["load", "flood", "-b", "-5MiB"],
        &["bench", "--bytes", "-1"],
    ] {
        let line = refused(args);
        assert!(
            line.contains("a size cannot be negative"),
            "{args:?}: {line}"
        );
    }
}

/// A scripted client pauses for at most an hour in all, not `--count`
/// times `--every` (100,000 lines an hour apart are eleven years). The
/// pauses fall between lines: one more line than an hour allows is
/// refused (`client.rs` has the edge that is taken).
#[test]
fn a_script_longer_than_an_hour_is_refused_before_connecting() {
    for args in [
        &[
            "client", "--send", "x", "--count", "100000", "--every", "1h",
        ][..],
        &["client", "--send", "x", "--count", "3", "--every", "1h"],
        &["client", "--send", "x", "--count", "62", "--every", "1m"],
    ] {
        let line = refused(args);
        assert!(
            line.contains("(--count − 1) × --every must be at most 1h"),
            "{args:?}: {line}"
        );
    }
}

/// Each number of `--held` is a run of every server in every round.
#[test]
fn a_bench_holding_more_than_ten_numbers_of_connections_is_refused() {
    let line = refused(&["bench", "--held", "1,2,3,4,5,6,7,8,9,10,11"]);
    assert!(line.contains("--held takes at most 10 numbers"), "{line}");
}

/// `--smoke` sets its own tiny loads: a load asked for beside it would be
/// ignored without a word, so it is refused, as clap refuses a misused
/// option (with the usage after the error).
#[test]
fn a_smoke_bench_with_a_load_of_its_own_is_refused() {
    for option in ["--held=5", "--bytes=1MiB", "--churn=5", "--repeats=2"] {
        let ran = run(
            WORKSHOP,
            &["bench", "--smoke", option],
            "",
            1,
            Duration::from_secs(30),
        );
        let first = ran.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: the argument '--smoke' cannot be used with '--"),
            "{option}: {}",
            ran.stderr
        );
    }
}

#[test]
fn counts_out_of_range_are_one_line_and_exit_1() {
    for args in [
        &["compare", "--crowd", "0"][..],
        &["compare", "--crowd", "4294967296"],
        &["load", "hold", "-n", "99999999999"],
        &["load", "flood", "-c", "0"],
        &["load", "churn", "-c", "18446744073709551616"],
        &["load", "--pid=-1", "hold"],
        &["client", "--send", "x", "--count", "0"],
        &["bench", "--held", "0"],
        &["bench", "--repeats", "1000"],
    ] {
        refused(args);
    }
}

/// `--addr` takes what the stages take, resolved as they resolve it: a host
/// name without a port is refused with the stages' own words.
#[test]
fn an_address_without_a_port_is_refused_as_the_stages_refuse_it() {
    for args in [
        &["client", "--addr", "localhost"][..],
        &["load", "--addr", "localhost", "hold"],
    ] {
        let line = refused(args);
        assert!(
            line.contains("expected HOST:PORT, such as localhost:9000"),
            "{args:?}: {line}"
        );
    }
}
