//! How many bytes wait in the kernel on one TCP connection, asked of the
//! kernel by the connection's two addresses (netlink's sock_diag, an exact
//! lookup in its table of connections). Reading `/proc/net/tcp` instead
//! walks the whole table, about 6 ms of system time a read here even for a
//! handful of sockets: too slow to poll while timing a run. Linux only.

use std::io;
use std::net::SocketAddr;

/// The bytes still in the kernel on the connections from `clients` to
/// `server` on this machine: not yet delivered from a client's side, and
/// delivered but not yet read by the server. Zero once the server has read
/// all the clients sent, however it then writes it (`write`, or `splice`,
/// which `/proc/PID/io` does not count); a connection already gone holds
/// nothing.
#[cfg(target_os = "linux")]
pub fn queued(clients: &[SocketAddr], server: SocketAddr) -> io::Result<u64> {
    let diag = Netlink::open()?;
    let server = canonical(server);
    let mut queued = 0;
    for &client in clients {
        let client = canonical(client);
        if client.is_ipv4() != server.is_ipv4() {
            return Err(io::Error::other(format!(
                "{client} and {server} are not of one family"
            )));
        }
        // The client's side first: bytes only move from there to the
        // server's, so none can slip between the two readings.
        let (_, unsent) = diag.queues(client, server)?;
        let (unread, _) = diag.queues(server, client)?;
        queued += u64::from(unsent) + u64::from(unread);
    }
    Ok(queued)
}

#[cfg(not(target_os = "linux"))]
pub fn queued(_clients: &[SocketAddr], _server: SocketAddr) -> io::Result<u64> {
    Err(io::ErrorKind::Unsupported.into())
}

/// `addr` with an IPv4 address mapped into IPv6 as the IPv4 address it is.
#[cfg(target_os = "linux")]
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// A netlink socket that asks the kernel about sockets.
#[cfg(target_os = "linux")]
struct Netlink(std::os::fd::OwnedFd);

#[cfg(target_os = "linux")]
impl Netlink {
    fn open() -> io::Result<Netlink> {
        use std::os::fd::FromRawFd;
        // SAFETY: socket takes no pointers; a descriptor it returns is ours.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned nowhere else.
        Ok(Netlink(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// The receive and send queues of the TCP socket at `local` connected
    /// to `remote`; none where there is no such socket.
    fn queues(&self, local: SocketAddr, remote: SocketAddr) -> io::Result<(u32, u32)> {
        use std::os::fd::AsRawFd;
        let request = request(local, remote);
        // SAFETY: the buffers are valid for the lengths given, and the
        // descriptor is open for as long as `self` lives.
        let sent = unsafe {
            libc::send(
                self.0.as_raw_fd(),
                request.as_ptr().cast(),
                request.len(),
                0,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut answer = [0u8; 512];
        // SAFETY: as above.
        let got = unsafe {
            libc::recv(
                self.0.as_raw_fd(),
                answer.as_mut_ptr().cast(),
                answer.len(),
                0,
            )
        };
        if got < 0 {
            return Err(io::Error::last_os_error());
        }
        parse(&answer[..got as usize], local.port(), remote.port())
    }
}

/// SOCK_DIAG_BY_FAMILY, from linux/sock_diag.h.
#[cfg(target_os = "linux")]
const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// A netlink message asking for the TCP socket at `local` connected to
/// `remote`: `nlmsghdr`, then `inet_diag_req_v2` (linux/inet_diag.h).
#[cfg(target_os = "linux")]
fn request(local: SocketAddr, remote: SocketAddr) -> Vec<u8> {
    let mut message = Vec::with_capacity(72);
    message.extend(72u32.to_ne_bytes()); // nlmsg_len
    message.extend(SOCK_DIAG_BY_FAMILY.to_ne_bytes()); // nlmsg_type
    message.extend(1u16.to_ne_bytes()); // nlmsg_flags: NLM_F_REQUEST
    message.extend(1u32.to_ne_bytes()); // nlmsg_seq
    message.extend(0u32.to_ne_bytes()); // nlmsg_pid: the kernel
    let family: u8 = if local.is_ipv4() { 2 } else { 10 }; // AF_INET, AF_INET6
    message.extend([family, 6, 0, 0]); // family, IPPROTO_TCP, no extensions, pad
    message.extend(u32::MAX.to_ne_bytes()); // every state
    message.extend(local.port().to_be_bytes());
    message.extend(remote.port().to_be_bytes());
    for addr in [local, remote] {
        let mut ip = [0u8; 16];
        match addr {
            SocketAddr::V4(v4) => ip[..4].copy_from_slice(&v4.ip().octets()),
            SocketAddr::V6(v6) => ip.copy_from_slice(&v6.ip().octets()),
        }
        message.extend(ip);
    }
    message.extend(0u32.to_ne_bytes()); // any interface
    message.extend(u32::MAX.to_ne_bytes()); // INET_DIAG_NOCOOKIE
    message.extend(u32::MAX.to_ne_bytes());
    message
}

/// The queues in the kernel's answer: `inet_diag_msg`'s `idiag_rqueue` and
/// `idiag_wqueue`, after the 16 bytes of `nlmsghdr`, its 4 of family,
/// state, timer and retransmits, its 48 of the socket's id (the ports
/// first) and 4 of expiry; or an error message, which for "no such socket"
/// means nothing queued. A connection whose side is gone is answered with
/// the listener on its port, which holds none of its bytes either.
#[cfg(target_os = "linux")]
fn parse(answer: &[u8], local_port: u16, remote_port: u16) -> io::Result<(u32, u32)> {
    let u32_at = |at: usize| {
        answer
            .get(at..at + 4)
            .map(|bytes| u32::from_ne_bytes(bytes.try_into().unwrap()))
            .ok_or_else(|| io::Error::other("a short answer from sock_diag"))
    };
    const NLMSG_ERROR: u16 = 2;
    let kind = answer
        .get(4..6)
        .map(|bytes| u16::from_ne_bytes([bytes[0], bytes[1]]))
        .ok_or_else(|| io::Error::other("a short answer from sock_diag"))?;
    if kind == NLMSG_ERROR {
        let errno = -(u32_at(16)? as i32);
        // ENOENT: no such socket.
        return match errno {
            2 => Ok((0, 0)),
            _ => Err(io::Error::from_raw_os_error(errno)),
        };
    }
    const LISTEN: u8 = 10;
    const CLOSE_WAIT: u8 = 8;
    const LAST_ACK: u8 = 9;
    let short = || io::Error::other("a short answer from sock_diag");
    let state = *answer.get(17).ok_or_else(short)?;
    let port_at = |at: usize| {
        answer
            .get(at..at + 2)
            .map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]))
            .ok_or_else(short)
    };
    if state == LISTEN || port_at(20)? != local_port || port_at(22)? != remote_port {
        return Ok((0, 0));
    }
    let (unread, unsent) = (u32_at(72)?, u32_at(76)?);
    // The peer's FIN counts as a byte received until it is read: not one
    // the server has to take.
    match state {
        CLOSE_WAIT | LAST_ACK => Ok((unread.saturating_sub(1), unsent)),
        _ => Ok((unread, unsent)),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::queued;

    #[test]
    fn bytes_count_as_queued_until_the_server_reads_them() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let (from, to) = (client.local_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(queued(&[from], to).unwrap(), 0);
        client.write_all(&[7; 1000]).unwrap();
        // Over loopback a write is delivered as it is made.
        assert_eq!(queued(&[from], to).unwrap(), 1000);
        server.read_exact(&mut [0; 600]).unwrap();
        assert_eq!(queued(&[from], to).unwrap(), 400);
        server.read_exact(&mut [0; 400]).unwrap();
        assert_eq!(queued(&[from], to).unwrap(), 0);
    }

    #[test]
    fn a_connection_that_is_gone_holds_nothing() {
        // A client that never connected, to a listener with one connection
        // waiting in its queue: the kernel answers with the listener, whose
        // queue is not a connection's bytes.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _waiting = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let unused = "127.0.0.1:1".parse().unwrap();
        assert_eq!(
            queued(&[unused], listener.local_addr().unwrap()).unwrap(),
            0
        );
    }
}
