//! What the listen-queue lesson shows: stage 3's behaviour, and a queue long
//! enough for a burst of clients while the server is busy.

const BIN: &str = env!("CARGO_BIN_EXE_stage3-listen-queue");

// Clients served together: two, while both stay open, and a hundred at once.
harness::serves_clients_together_tests!(BIN, &[]);

// What stages 2 to 4 share: a mebibyte of random bytes reaches stderr
// unchanged, the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

/// While the server is busy (stopped, here), the kernel completes a burst
/// of 500 clients' connections and keeps them for it, where stage 3's queue
/// holds 129.
#[cfg(target_os = "linux")]
#[test]
fn while_it_is_stopped_its_listen_queue_holds_a_burst_of_500_clients() {
    harness::listen_queue::a_stopped_server_queues_a_burst_of_500_clients(BIN);
}

// The checks `workshop check` judges a learner's stage 3 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(3, BIN, &[], std::time::Duration::ZERO);
