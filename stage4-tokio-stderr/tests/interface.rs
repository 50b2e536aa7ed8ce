//! The command line every stage shares: see `harness::interface`.

harness::interface_tests!(env!("CARGO_BIN_EXE_stage4-tokio-stderr"), listen_queue: bind);
