//! `workshop bench --smoke`, the bench's own check in CI: a few seconds of
//! tiny loads that go through every measurement and every output. Its
//! figures mean nothing (CI machines are shared); that they appear does.

use std::time::Duration;

use harness::command::run;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

#[test]
fn a_smoke_run_measures_every_scenario_and_writes_table_results_and_chart() {
    let out = std::env::temp_dir().join(format!("workshop-bench-smoke-{}", std::process::id()));
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--smoke",
            "--only",
            "stage3-concurrent,stage4-timeouts",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        0,
        Duration::from_secs(120),
    );
    let table = &ran.stdout;
    assert!(
        table.starts_with("| measurement | stage3-concurrent | stage4-timeouts |"),
        "{table}"
    );
    for row in [
        "| memory per idle connection, 20 held |",
        "| memory per idle connection, 200 held |",
        "| throughput, 16 clients, stderr to pipe |",
        "| accept rate, 64 connecting at a time |",
    ] {
        assert!(table.contains(row), "no {row:?} in:\n{table}");
    }
    assert!(!table.contains("failed"), "{table}");

    let results = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let lines: Vec<&str> = results.lines().collect();
    // 2 servers, 8 scenarios: 2 holds, 4 throughputs, 2 accept rates.
    assert_eq!(lines.len(), 16, "{results}");
    assert!(
        lines.iter().all(|line| line.contains(r#""value":"#)),
        "{results}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("table.md")).unwrap(),
        *table
    );
    let svg = std::fs::read_to_string(out.join("memory.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("stage4-timeouts"),
        "{svg}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
