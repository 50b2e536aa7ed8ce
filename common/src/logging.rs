//! The logger: env_logger, writing through the stderr queue, or to a file of
//! its own with `--log-file`.

use std::fs::File;
use std::io;

use crate::OrExit;
use crate::args::ServerArgs;
use crate::stderr::LogTarget;

/// Logs at `info` unless `RUST_LOG` says otherwise (`RUST_LOG=off` leaves
/// stderr to the clients' bytes alone). Milliseconds in the timestamps let
/// you watch a read deadline expire.
///
/// Log lines go through the same queue as the clients' bytes (see
/// [`stderr`](mod@crate::stderr)), so they stay in order with them and a slow
/// stderr never blocks the thread that logs. With `--log-file`, they go to
/// that file instead, through a queue of their own: a log that holds only
/// the server's lines, which no client can add to.
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
    builder
        .format_timestamp_millis()
        .target(env_logger::Target::Pipe(Box::new(target)))
        .init();
}

/// The file `--log-file` names, opened to append to (one line and exit 1 if
/// it cannot be), or `None` without `--log-file`.
pub fn log_file(args: &ServerArgs) -> Option<File> {
    let path = args.log_file.as_ref()?;
    let file = File::options().create(true).append(true).open(path);
    Some(file.or_exit(format!("cannot write the log to {}", path.display())))
}
