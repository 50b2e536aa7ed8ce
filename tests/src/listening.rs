//! Where a process listens, seen from outside it: the inodes of its sockets
//! in `/proc/PID/fd`, looked up in the kernel's tables of TCP sockets,
//! `/proc/net/tcp` and `tcp6`. Linux only, as `/proc` is: elsewhere a
//! process is found listening nowhere.
//!
//! The harness finds a server that logs no address this way (a Go program,
//! a learner's server in any language), and knows it is *that* server
//! listening, not another process that took the port first; the workshop's
//! bench finds its servers this way without connecting to them.

use std::fs;

/// The TCP ports process `pid` listens on, in the kernel's order.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let inodes: Vec<String> = fds
        .flatten()
        .filter_map(|fd| fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let inode = target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?;
            Some(inode.to_string())
        })
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    // sl local_address rem_address st ... inode (the 10th field)
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let listening = fields.get(3) == Some(&"0A");
                    let its_own = inodes
                        .iter()
                        .any(|inode| fields.get(9) == Some(&inode.as_str()));
                    if !listening || !its_own {
                        return None;
                    }
                    u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()
                })
                .collect::<Vec<u16>>()
        })
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::listening_ports;

    #[test]
    fn a_listener_of_this_process_is_found_by_its_port_and_gone_once_closed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let this = std::process::id();
        assert!(
            listening_ports(this).contains(&port),
            "{port} not in {:?}",
            listening_ports(this)
        );
        drop(listener);
        assert!(
            !listening_ports(this).contains(&port),
            "{port} still in {:?}",
            listening_ports(this)
        );
    }

    #[test]
    fn a_process_that_does_not_exist_listens_nowhere() {
        assert_eq!(listening_ports(u32::MAX), Vec::<u16>::new());
    }
}
