//! The integration tests, one module per theme, built as one test crate that shares its
//! helpers (`common`, `real_servers`, `server_support`, `starttls_peers`).
//!
//! Tests that count this process's descriptors or change its limits run in a process of
//! their own (`common::isolated!`): the other tests of this crate run beside them.

#[macro_use]
mod common;
mod real_servers;
mod server_support;
mod starttls_peers;

mod certstore;
mod certstore_junk;
mod cli;
mod cli_errors;
mod cli_reports;
mod client;
mod core_client;
mod core_server;
mod deadline;
mod dtls;
mod ech;
mod engine;
mod error_chain;
mod error_root;
mod escape_hatches;
mod examples;
mod fault_proxy;
mod fingerprint;
mod fuzz_props;
mod harness;
mod hostile_clients;
mod keylog;
mod leaks;
mod membio;
mod multi;
mod negotiated;
mod ocsp_status;
mod proxy;
mod reliability;
mod security_scan;
mod serve_load;
mod server;
mod server_concurrency;
mod server_config;
mod server_gnutls;
mod sessions;
mod starttls;
mod starttls_dialogues;
mod starttls_servers;
mod starttls_upgrade;
#[cfg(feature = "tokio")]
mod tokio_runner;
#[cfg(feature = "tokio")]
mod tokio_starttls;
mod trace;
mod trust_files;
mod url;
mod verdicts;
mod verify_cache;
mod verify_cache_parity;
