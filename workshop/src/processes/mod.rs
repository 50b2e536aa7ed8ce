//! The processes layer: finding the servers (the stages, the Go seed's
//! programs) and building them, starting them as the harness does, and what
//! the kernel tells about them and about this process.
//!
//! - [`stages`]: the stage binaries, found by name or prefix, built with
//!   cargo from the course's [`workspace`].
//! - [`contenders`]: the servers the bench measures, the Go seed's too.
//! - [`servers`]: starting one, watched, on a free loopback port.
//! - [`usage`]: a process's memory and threads, its open files, and the
//!   machine's listen-queue overflows, read from `/proc`; [`sock_diag`]:
//!   the bytes still queued on a connection, asked of the kernel.
//! - [`limits`]: the limit on open files, raised at start, and running out.

pub mod contenders;
pub mod limits;
pub mod servers;
pub mod sock_diag;
pub mod stages;
pub mod usage;
pub mod workspace;
