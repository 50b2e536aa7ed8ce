//! Off Linux there is no `splice(2)`: Go's `io.Copy` copies through a buffer
//! there, and so does this lesson, with the lean copy of `stage3-lean-copy`.

use std::io;

use tokio::net::TcpStream;

use crate::Moved;

/// Stderr to splice into, which cannot exist here: [`SplicedStderr::open`]
/// is always `None`.
pub enum SplicedStderr {}

impl SplicedStderr {
    pub fn open() -> Option<SplicedStderr> {
        None
    }
}

pub async fn move_what_is_there(_: &TcpStream, stderr: &SplicedStderr) -> io::Result<Moved> {
    match *stderr {}
}
