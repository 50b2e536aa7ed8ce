//! Connecting to a server on loopback from many source addresses, so that
//! a run's tens of thousands of connections find ports free.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpSocket, TcpStream};

/// A source address carries at most this many connections: one address has
/// about 28,000 ephemeral ports, and a closed connection keeps its port in
/// TIME_WAIT for a minute.
const PER_SOURCE: usize = 16_000;

/// Which source address the next connections start from: 0 is the usual
/// 127.0.0.1. See [`fresh_sources`].
static FIRST_SOURCE: AtomicUsize = AtomicUsize::new(0);

/// Moves the following connections (`connections` of them) to source
/// addresses no recent run used. A run of tens of thousands of connections
/// leaves as many ports in TIME_WAIT for a minute, and the next run from
/// the same address then finds few ports free, or slowly.
pub(crate) fn fresh_sources(connections: usize) {
    let used = connections / PER_SOURCE + 1;
    let _ = FIRST_SOURCE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |first| {
        Some(1 + (first + used) % 200)
    });
}

/// Connects to `addr`, from the `index`th connection's source address.
pub(crate) async fn connect(addr: SocketAddr, index: usize) -> std::io::Result<TcpStream> {
    let source = FIRST_SOURCE.load(Ordering::Relaxed) + index / PER_SOURCE;
    match addr.ip() {
        // Linux and Windows answer on all of 127.0.0.0/8; macOS's loopback
        // has 127.0.0.1 alone, unless more are added by hand.
        IpAddr::V4(ip)
            if ip.is_loopback() && source > 0 && cfg!(any(target_os = "linux", windows)) =>
        {
            // 127.0.0.2, 127.0.0.3...: all loopback, each with its own ports.
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            choose_the_port_at_connect(&socket)?;
            let octet = u8::try_from(1 + source % 250).unwrap_or(u8::MAX);
            socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, octet), 0)))?;
            socket.connect(addr).await
        }
        _ => TcpStream::connect(addr).await,
    }
}

/// Binding to an address picks a port at once, with nothing but the address
/// to go on, and the search grows slow as the ports fill with closed
/// connections; a plain `connect` picks it knowing the destination, which
/// is fast. `IP_BIND_ADDRESS_NO_PORT` has a bound socket pick its port the
/// way `connect` does. (Linux only; elsewhere the bind picks it.)
fn choose_the_port_at_connect(socket: &TcpSocket) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: the option value is a c_int that outlives the call, and
        // the descriptor belongs to `socket`.
        let status = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if status != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
    Ok(())
}
