//! `workshop compare`: every stage run through the same scenarios
//! ([`crate::measure::compare`]), and what each did, shown
//! ([`crate::render::compare`]) and, if asked, kept as Markdown notes, or
//! as pictures for the book ([`crate::render::pictures`]): the run as
//! `compare.json`, and each stage's timelines as `timeline-<stage>.svg`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::measure;
use crate::model::compare::{Comparison, Plan};
use crate::output::notes::Notes;
use crate::processes::{limits, servers, stages};
use crate::render::compare::{Format, render};
use crate::render::{jsonl, pictures};
use crate::units::duration_within;
use crate::{say, tellln};

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// The stages to compare, by name or prefix (stage2,stage4-timeouts); all of them if not given
    #[arg(long, value_delimiter = ',')]
    stages: Vec<String>,

    /// The read deadline for the stages that take --timeout, from 100ms (shorter, and the scenarios cannot tell talking from silence) to 1m; the idle and talking scenarios scale with it
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration_within(Duration::from_millis(100), Duration::from_secs(60)))]
    timeout: Duration,

    /// How many clients the crowd scenario connects
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    crowd: u32,

    /// text for the terminal, markdown for slides and notes
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,

    /// Also write the same run as Markdown to this file, for notes
    #[arg(long, value_name = "FILE")]
    markdown_to: Option<PathBuf>,

    /// Also keep the run in this folder, as pictures: compare.json (the run, read back by the book's tests) and timeline-<stage>.svg for each stage (the book's are in book/src/pictures)
    #[arg(long, value_name = "DIR")]
    pictures: Option<PathBuf>,
}

/// `--format`'s values: the renderer's formats, as the command line
/// spells them (the render layer knows nothing of arguments).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FormatArg {
    Text,
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

pub async fn run(args: CompareArgs) -> anyhow::Result<()> {
    // A file that cannot be written is said at once, not after the run.
    let notes = match &args.markdown_to {
        Some(path) => Some(Notes::check(path)?),
        None => None,
    };
    let pictures = match &args.pictures {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Some((dir.clone(), Notes::check(&dir.join("compare.json"))?))
        }
        None => None,
    };
    // The crowd is a file in this process, and one in the stage, for each
    // client: a crowd the limit cannot hold is refused before the run.
    limits::enough_open_files(
        u64::from(args.crowd) + 64,
        &format!("a crowd of {}", args.crowd),
        "ask for a smaller --crowd",
    )?;
    let wanted = args.stages.clone();
    let stages = servers::blocking(move || stages::find(&wanted)).await?;
    let plan = Plan {
        timeout: args.timeout,
        crowd: args.crowd as usize,
    };
    let names: Vec<&str> = stages.iter().map(|stage| stage.name.as_str()).collect();
    tellln!(
        "workshop: comparing {} (deadline {}, a crowd of {})",
        names.join(", "),
        humantime::format_duration(plan.timeout),
        plan.crowd
    );
    let reports = measure::compare::compare(&stages, &plan).await?;
    say!("{}", render(&reports, &plan, args.format.into()));
    if let Some(notes) = notes {
        let path = notes.path().display().to_string();
        notes.write(&render(&reports, &plan, Format::Markdown))?;
        tellln!("workshop: wrote the same run as Markdown to {path}");
    }
    if let Some((dir, json)) = pictures {
        let comparison = Comparison { plan, reports };
        // The pictures first: compare.json, last, says they are all there.
        for (name, svg) in pictures::timelines(&comparison) {
            Notes::check(&dir.join(name))?.write(&svg)?;
        }
        json.write(&jsonl::comparison(&comparison)?)?;
        tellln!(
            "workshop: wrote compare.json and a timeline-<stage>.svg for each stage to {}",
            dir.display()
        );
    }
    Ok(())
}
