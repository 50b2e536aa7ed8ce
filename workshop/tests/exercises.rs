//! The exercises are real, and cannot drift from the stages they lead to:
//! each starter is what its recipe makes of its stage, builds (clippy sees
//! it with the workspace), and fails its stage's checks, which the stage
//! itself passes (`harness::stage_checks!` in each stage's tests). And
//! `workshop check`, `hint` and `progress` take a learner through one.
//!
//! A learner runs these tests too, in a clone where they have written some
//! exercises: an exercise whose files git says they changed is left out,
//! and the test says so. A clean clone (CI's) leaves none out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::checks;
use workshop::exercises::{self, Exercise};
use workshop::processes::workspace::{self, Warnings};

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// How long a check of an exercise may take, its build included (the
/// exercise is built by the first test to need it; the checks themselves
/// answer within seconds).
const BUILD_AND_CHECK: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether the learner has changed `file` of `exercise`, committed or not:
/// whether it differs from what it was at the last commit that changed the
/// stage or the recipe, when the starter was last made. Where git cannot
/// tell (no git, no repository), nobody has.
fn changed_by_the_learner(exercise: &Exercise, file: &Path) -> bool {
    let git = || {
        let mut git = std::process::Command::new("git");
        git.arg("-C").arg(root());
        git
    };
    let recipe = exercise.folder(&root()).join("exercise.toml");
    let made = git()
        .args(["log", "-1", "--format=%H", "--"])
        .arg(root().join(exercise.stage))
        .arg(recipe)
        .output();
    let Some(made) = made
        .ok()
        .map(|made| String::from_utf8_lossy(&made.stdout).trim().to_string())
        .filter(|commit| !commit.is_empty())
    else {
        return false;
    };
    git()
        .args(["diff", "--quiet", &made, "--"])
        .arg(file)
        .status()
        .is_ok_and(|status| status.code() == Some(1))
}

/// Says `note` on stderr even when the test passes (`eprintln!` is shown
/// only for a test that fails): a learner sees what was left out, and why.
fn note(note: &str) {
    let _ = writeln!(std::io::stderr(), "{note}");
}

/// The exercises whose files are their starters', and a note on stderr
/// for each left out because the learner has written it.
fn untouched_exercises() -> Vec<&'static Exercise> {
    exercises::ALL
        .iter()
        .filter(|exercise| {
            let untouched = exercise.is_its_starter(&root()).unwrap();
            if !untouched {
                note(&format!(
                    "left out {}: its files are not the starter (yours, or changed since the recipe)",
                    exercise.name
                ));
            }
            untouched
        })
        .collect()
}

/// Each starter is its stage with the lesson's lines taken out, exactly as
/// its recipe makes it: when a stage changes, its recipe and starter change
/// with it (`cargo run -q -p workshop -- reset N --yes` writes the starter).
#[test]
fn every_starter_is_what_its_recipe_makes_of_its_stage() {
    for exercise in exercises::ALL {
        assert_eq!(
            exercise.recipe().unwrap().stage,
            exercise.stage,
            "the stage exercises/{}/exercise.toml names",
            exercise.name
        );
        let folder = exercise.folder(&root());
        for (path, made) in exercise.starter().unwrap() {
            let file = folder.join(path);
            let on_disk = std::fs::read_to_string(&file).unwrap_or_default();
            if on_disk == made {
                continue;
            }
            if changed_by_the_learner(exercise, &file) {
                note(&format!("left out {}: you have changed it", file.display()));
                continue;
            }
            panic!(
                "{} is not what exercises/{}/exercise.toml makes of {}/{path}; if the stage changed (did you change it?), change the recipe, then: cargo run -q -p workshop -- reset {} --yes",
                file.display(),
                exercise.name,
                exercise.stage,
                exercise.number
            );
        }
    }
}

/// A starter holds every source file of its stage: a file the stage gains
/// (stage 5's `splice.rs`) reaches the exercise too, or the starter would
/// not build.
#[test]
fn every_source_file_of_a_stage_is_in_its_starter() {
    for exercise in exercises::ALL {
        let stage = root().join(exercise.stage);
        let mut on_disk = rust_files_under(&stage, &stage.join("src"));
        let mut in_the_starter: Vec<String> = exercise
            .stage_files()
            .iter()
            .map(|(path, _)| path.to_string())
            .collect();
        on_disk.sort();
        in_the_starter.sort();
        assert_eq!(
            in_the_starter, on_disk,
            "the files exercises/mod.rs lists for {}",
            exercise.name
        );
    }
}

/// The `.rs` files under `dir`, and in its folders, as paths from `stage`
/// (`src/splice.rs`).
fn rust_files_under(stage: &Path, dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(rust_files_under(stage, &path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let relative = path.strip_prefix(stage).unwrap();
            found.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    found
}

/// An exercise is real: its starter builds and fails its stage's checks
/// (exercise 1's does not even start a server: its `todo!()` panics).
#[test]
fn every_starter_fails_its_stages_checks() {
    let mut untouched = untouched_exercises();
    // Exercise 5 is the graceful shutdown, which only the checks that send
    // signals see, and only Unix has them: elsewhere its starter passes.
    if cfg!(not(unix)) {
        untouched.retain(|exercise| exercise.number != 5);
    }
    let bins: Vec<PathBuf> = untouched
        .iter()
        .map(|exercise| {
            let (bin, warnings) = workspace::build_one(&root(), exercise.name).unwrap();
            // Or `check` would send the learner to the warnings.
            assert_eq!(
                warnings,
                Warnings(0),
                "{}'s starter builds with warnings",
                exercise.name
            );
            bin
        })
        .collect();
    std::thread::scope(|scope| {
        let judged: Vec<_> = untouched
            .iter()
            .zip(&bins)
            .map(|(exercise, bin)| {
                let target = exercise.target(bin.display().to_string()).unwrap();
                let judging = scope.spawn(move || match checks::starts(&target) {
                    Err(_) => true,
                    Ok(()) => checks::run_all(exercise.number, &target)
                        .iter()
                        .any(|(_, outcome)| outcome.is_err()),
                });
                (exercise, judging)
            })
            .collect();
        for (exercise, judging) in judged {
            assert!(
                judging.join().unwrap(),
                "{}'s starter passes stage {}'s checks: there is nothing left to write",
                exercise.name,
                exercise.number
            );
        }
    });
}

/// `workshop` run as a learner does, its record kept in `record`.
fn workshop(args: &[&str], record: &Path, code: i32) -> (String, String) {
    let output = assert_cmd::Command::new(WORKSHOP)
        .args(args)
        .env("WORKSHOP_RECORD", record)
        .env_remove("RUST_LOG")
        .timeout(BUILD_AND_CHECK)
        .assert()
        .code(code)
        .get_output()
        .clone();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A learner who has passed exercises 1 and 2 checks the next, exercise 3,
/// as it comes: it fails, says why in their words and where to find a
/// hint; `progress` remembers it, and `hint` gives the hints one after
/// another.
#[test]
fn checking_the_third_starter_says_what_to_change_and_remembers_it() {
    if !untouched_exercises()
        .iter()
        .any(|exercise| exercise.number == 3)
    {
        return;
    }
    let record = std::env::temp_dir().join(format!("workshop-record-{}.toml", std::process::id()));
    std::fs::write(
        &record,
        "[exercise1-listener]\nlast_check = \"passed\"\n[exercise2-accept-loop]\nlast_check = \"passed\"\n",
    )
    .unwrap();

    // No number: the first exercise not passed.
    let (report, said) = workshop(&["check"], &record, 1);
    assert!(report.starts_with("stage 3's checks"), "{report}");
    assert!(
        report.contains("FAILED  serves clients together")
            && report.contains("your accept loop waits for each client before accepting the next"),
        "{report}"
    );
    assert!(
        said.contains("1 of stage 3's checks failed; a hint: cargo run -q -p workshop -- hint 3"),
        "{said}"
    );

    let (first, _) = workshop(&["hint", "3"], &record, 0);
    assert!(first.starts_with("Exercise 3, hint 1 of 3:"), "{first}");
    let (second, _) = workshop(&["hint", "exercise3"], &record, 0);
    assert!(second.starts_with("Exercise 3, hint 2 of 3:"), "{second}");

    let (table, _) = workshop(&["progress"], &record, 0);
    let row = table
        .lines()
        .find(|line| line.starts_with("3 exercise3-concurrent"))
        .unwrap_or_else(|| panic!("no row for exercise 3:\n{table}"));
    assert!(
        row.contains("1 of 2 checks failed") && row.ends_with("2 of 3"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("2 exercise2-accept-loop") && line.contains("passed")),
        "{table}"
    );
    assert!(table.contains("\nNext: exercise 3 "), "{table}");
    std::fs::remove_file(&record).unwrap();
}

/// `solution` shows, for an exercise as it comes, the lines the stage has
/// in place of the starter's; `reset` of an exercise that is its starter
/// changes nothing.
#[test]
fn solution_shows_the_stages_lines_and_reset_leaves_a_starter_alone() {
    if !untouched_exercises()
        .iter()
        .any(|exercise| exercise.number == 3)
    {
        return;
    }
    let record =
        std::env::temp_dir().join(format!("workshop-solution-{}.toml", std::process::id()));
    let (diff, _) = workshop(&["solution", "3"], &record, 0);
    assert!(
        diff.starts_with("From your exercises/exercise3-concurrent to stage3-concurrent"),
        "{diff}"
    );
    let lines: Vec<&str> = diff.lines().collect();
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with('-')
                && line.contains("serve_connection(socket, peer).await;")),
        "{diff}"
    );
    assert!(
        lines.iter().any(|line| line.starts_with('+')
            && line.contains("tokio::spawn(serve_connection(socket, peer));")),
        "{diff}"
    );
    let (said, _) = workshop(&["reset", "3"], &record, 0);
    assert_eq!(
        said,
        "exercises/exercise3-concurrent is the starter already: nothing to reset.\n"
    );
    let _ = std::fs::remove_file(&record);
}

/// A name that is no exercise is told, with the exercises there are.
#[test]
fn an_exercise_that_does_not_exist_is_told_in_one_line() {
    let record = std::env::temp_dir().join("workshop-no-such-exercise.toml");
    let (_, said) = workshop(&["hint", "9"], &record, 1);
    assert_eq!(
        said.trim(),
        "error: there is no exercise \"9\"; the exercises are 1 (exercise1-listener), 2 (exercise2-accept-loop), 3 (exercise3-concurrent), 4 (exercise4-timeouts), 5 (exercise5-production)"
    );
}

/// `check --watch` checks, then checks again when a file of the exercise
/// is saved (here its time of change is set, its text left as it is).
#[test]
fn check_watch_checks_again_each_time_a_file_is_saved() {
    use std::io::BufRead;
    if !untouched_exercises()
        .iter()
        .any(|exercise| exercise.number == 3)
    {
        return;
    }
    let record = std::env::temp_dir().join(format!("workshop-watch-{}.toml", std::process::id()));
    /// Kills the watcher however the test ends.
    struct Watcher(std::process::Child);
    impl Drop for Watcher {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut command = std::process::Command::new(WORKSHOP);
    command
        .args(["check", "3", "--watch"])
        .env("WORKSHOP_RECORD", &record)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    harness::die_with_this_process(&mut command);
    let mut watcher = Watcher(command.spawn().unwrap());
    let (lines, said) = std::sync::mpsc::channel();
    let stdout = std::io::BufReader::new(watcher.0.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + BUILD_AND_CHECK;
        while !seen.iter().any(|line: &String| line.contains(needle)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match said.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!(
                    "waited for {needle:?}; the watcher said:\n{}",
                    seen.join("\n")
                ),
            }
        }
        seen.clear();
    };
    wait_for("workshop: watching");
    let main = exercises::find("3")
        .unwrap()
        .folder(&root())
        .join("src/main.rs");
    std::fs::File::options()
        .append(true)
        .open(&main)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    wait_for("main.rs changed: checking again");
    wait_for("FAILED  serves clients together");
    wait_for("workshop: watching");
    drop(watcher);
    let _ = std::fs::remove_file(&record);
}
