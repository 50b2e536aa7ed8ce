//! Step 3, accept errors that do not end the server. Go's tutorial: "here you
//! need to check if the err implements the net error interface, since the
//! error could be temporary". An error that belongs to one connection (it
//! was aborted or reset before `accept` returned it) is logged and skipped.
//! Running out of resources (file descriptors, buffers, memory) would fail
//! again at once if retried at once, a busy loop at 100% CPU (tokio issue
//! 3529): accepting pauses instead, 10 ms, then 20 ms, doubling up to a
//! second, until it works again, with one line when it starts and one when
//! it is over.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The longest pause between two attempts to accept while out of resources.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// A listener whose `accept` waits out errors that would repeat at once.
pub struct PatientListener {
    listener: TcpListener,
    /// How many accepts in a row failed for want of resources.
    failed_accepts: u32,
}

impl PatientListener {
    pub fn new(listener: TcpListener) -> PatientListener {
        PatientListener {
            listener,
            failed_accepts: 0,
        }
    }

    /// The next client; `None` if shutdown begins first.
    pub async fn accept(
        &mut self,
        shutdown: &CancellationToken,
    ) -> Option<(TcpStream, SocketAddr)> {
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = shutdown.cancelled() => return None,
            };
            let err = match accepted {
                Ok(accepted) => {
                    if self.failed_accepts > 0 {
                        log::info!(
                            "accepting again, after {} failed attempts",
                            self.failed_accepts
                        );
                        self.failed_accepts = 0;
                    }
                    return Some(accepted);
                }
                Err(err) => err,
            };
            if ends_one_connection(&err) {
                log::warn!("a connection failed before it was accepted: {err}");
                continue;
            }
            if self.failed_accepts == 0 {
                log::error!("accept failed: {err}; pausing accepts until it works again");
            }
            let pause = Duration::from_millis(10 << self.failed_accepts.min(7)).min(MAX_PAUSE);
            self.failed_accepts += 1;
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => return None,
            }
        }
    }
}

/// Whether an accept error belongs to one connection that failed before it
/// was accepted (the client gave up, or the network failed it), rather than
/// to the server.
fn ends_one_connection(err: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | NetworkDown | NetworkUnreachable | HostUnreachable
    )
}
