//! The logger: env_logger, writing through the stderr queue, or to a file of
//! its own with `--log-file`.

use std::fs::File;
use std::io;

use log::{Level, Log, Metadata, Record};

use crate::OrExit;
use crate::args::ServerArgs;
use crate::stderr::{EXIT_WAIT, LogTarget, write_the_log};

/// Logs at `info` unless `RUST_LOG` says otherwise (`RUST_LOG=off` leaves
/// stderr to the clients' bytes alone). Milliseconds in the timestamps let
/// you watch a read deadline expire.
///
/// Log lines go through the same queue as the clients' bytes (see
/// [`stderr`](mod@crate::stderr)), so they stay in order with them and a slow
/// stderr never blocks the thread that logs. With `--log-file`, they go to
/// that file instead, through a queue of their own: a log that holds only
/// the server's lines, which no client can add to.
///
/// On Windows an error line is written before `log::error!` returns (if
/// stderr takes it within [`EXIT_WAIT`]): `std::process::exit` there ends
/// the writer thread at once, and a stage's `log::error!` then
/// `std::process::exit(1)` (Go's `log.Fatal`) would lose its line. The
/// price: while stderr is stuck, each error line holds its thread up to
/// [`EXIT_WAIT`] (stage 5's accept errors, when it pauses accepting anyway).
pub fn init_logging(args: &ServerArgs) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    let (target, colours) = match log_file(args) {
        None => (
            LogTarget::stderr(),
            // env_logger decides on colours for its own stderr, but never
            // colours a target it is given: decide as it would have.
            anstream::AutoStream::choice(&io::stderr()) != anstream::ColorChoice::Never,
        ),
        Some(file) => (LogTarget::file(file), false),
    };
    // Unless RUST_LOG_STYLE says otherwise.
    let style = std::env::var("RUST_LOG_STYLE").unwrap_or_default();
    if style.is_empty() || style == "auto" {
        builder.write_style(match colours {
            true => env_logger::WriteStyle::Always,
            false => env_logger::WriteStyle::Never,
        });
    }
    let logger = builder
        .format_timestamp_millis()
        .target(env_logger::Target::Pipe(Box::new(target)))
        .build();
    let max_level = logger.filter();
    let logger = Logger {
        logger,
        // Elsewhere the exit hook writes what is queued (see `stderr`).
        errors_wait: cfg!(windows),
    };
    log::set_boxed_logger(Box::new(logger)).expect("the logger is set up once");
    log::set_max_level(max_level);
}

/// env_logger's logger, whose error lines may wait until they are written.
struct Logger {
    logger: env_logger::Logger,
    errors_wait: bool,
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.logger.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        self.logger.log(record);
        if self.errors_wait && record.level() == Level::Error && self.logger.matches(record) {
            write_the_log(EXIT_WAIT);
        }
    }

    fn flush(&self) {
        self.logger.flush();
    }
}

/// The file `--log-file` names, opened to append to (one line and exit 1 if
/// it cannot be), or `None` without `--log-file`.
pub fn log_file(args: &ServerArgs) -> Option<File> {
    let path = args.log_file.as_ref()?;
    let file = File::options().create(true).append(true).open(path);
    Some(file.or_exit(format!("cannot write the log to {}", path.display())))
}
