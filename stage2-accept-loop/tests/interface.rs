//! The command line every stage shares: see `harness::interface`.

harness::interface_tests!(env!("CARGO_BIN_EXE_stage2-accept-loop"), listen_queue: bind);
