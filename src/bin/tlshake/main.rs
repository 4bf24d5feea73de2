//! The `tlshake` command-line tool.
fn main() {}
