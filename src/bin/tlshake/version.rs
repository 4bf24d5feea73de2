//! `tlshake version`: which tlshake, and which OpenSSL exactly: the headers it was built
//! against, the library it runs on, and what that library offers.

use clap::Args;
use serde_json::{json, Value};
use tlshake::library::{LibraryInfo, OpensslVersion};

use crate::report::{self, Outcome};

/// Options of `tlshake version`.
#[derive(Debug, Args)]
pub(crate) struct VersionArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `tlshake version`.
pub(crate) fn run(a: &VersionArgs) -> Outcome {
    let info = LibraryInfo::probe();
    if a.json {
        report::emit(&format!("{}\n", to_json(&info)));
    } else {
        report::emit(&to_text(&info));
    }
    Outcome::Done
}

fn number(v: OpensslVersion) -> String {
    format!("0x{:08x}", v.number())
}

fn to_json(info: &LibraryInfo) -> Value {
    json!({
        "tlshake": env!("CARGO_PKG_VERSION"),
        "openssl": {
            "built_against": {
                "version": info.built_against.to_string(),
                "number": number(info.built_against),
            },
            "running": {
                "version": info.running.to_string(),
                "number": number(info.running),
                "text": info.running_text,
            },
        },
        "post_quantum": {
            "offered": info.offers_post_quantum(),
            "groups": info.post_quantum_groups,
        },
        "ech": info.ech,
    })
}

fn to_text(info: &LibraryInfo) -> String {
    let groups = if info.offers_post_quantum() {
        info.post_quantum_groups.join(", ")
    } else {
        "none (OpenSSL 3.5 and newer offer X25519MLKEM768)".to_string()
    };
    let ech = if info.ech {
        "yes"
    } else {
        "no (OpenSSL 4.0 and newer, unless built with no-ech)"
    };
    format!(
        "tlshake {}\n\
         OpenSSL built against: {} ({})\n\
         OpenSSL running:       {} ({})\n\
         post-quantum groups:   {groups}\n\
         ECH:                   {ech}\n",
        env!("CARGO_PKG_VERSION"),
        info.built_against,
        number(info.built_against),
        info.running_text,
        number(info.running),
    )
}
