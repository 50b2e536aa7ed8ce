//! The command line every stage shares: see `harness::interface`.

harness::interface_tests!(env!("CARGO_BIN_EXE_stage3-splice"), listen_queue: bind);
