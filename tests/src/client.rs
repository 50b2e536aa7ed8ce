//! What a test does as a client, beyond `connect` and `write_all`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::{Server, patience};

/// Waits until the server closes `stream`. Fails if the server sends data
/// (no stage ever writes to a client) or keeps the connection open for longer
/// than [`patience`].
pub fn wait_until_closed_by_server(stream: &mut TcpStream) {
    let started = Instant::now();
    stream.set_read_timeout(Some(patience())).unwrap();
    match stream.read(&mut [0u8; 64]) {
        Ok(0) => {}
        // The server closed first, before reading all we sent: the kernel
        // answers our leftover bytes with a reset. Closed all the same.
        Err(err) if err.kind() == ErrorKind::ConnectionReset => {}
        Ok(n) => panic!("the server sent {n} bytes; no stage writes to its clients"),
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
            "the server kept the connection open for {:.1?}",
            started.elapsed()
        ),
        Err(err) => panic!("reading from the server failed: {err}"),
    }
}

/// Whether the server still holds `stream` open: a read finds nothing to
/// read instead of the end of the stream.
pub fn is_open(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let open =
        matches!(stream.peek(&mut [0u8; 1]), Err(err) if err.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    open
}

/// Connects `count` clients to `server`; each says `client NNN says hi`, and
/// this returns once the server has printed every line, with the clients
/// still connected.
pub fn crowd_that_says_hi(server: &Server, count: usize) -> Vec<TcpStream> {
    let mut clients: Vec<TcpStream> = (0..count).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i:03} says hi\n").as_bytes())
            .unwrap();
    }
    for i in 0..count {
        server.wait_for(format!("client {i:03} says hi\n"));
    }
    clients
}

/// Closes `stream` with a reset (RST) instead of the usual FIN, as a client
/// that crashes or a flaky network does.
pub fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// `len` bytes that look random and cover every byte value, from a fixed
/// seed so that a failure can be replayed.
pub fn random_bytes(len: usize) -> Vec<u8> {
    // xorshift64*: plenty for test data, and no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
