//! `--trace`: the handshake timeline in the report.

use serde_json::{json, Value};
use tlshake::trace::{Direction, TraceEvent};

pub(crate) fn to_json(events: &[TraceEvent]) -> Value {
    events
        .iter()
        .map(|e| {
            json!({
                "ms": (e.at.as_secs_f64() * 1e6).round() / 1e3,
                "direction": if e.direction == Direction::Sent { "sent" } else { "received" },
                "message": e.message,
                "size": e.size,
                "facts": e.facts,
            })
        })
        .collect()
}

/// One line a message: time, `>` sent or `<` received, name, size, facts.
pub(crate) fn to_text(events: &[TraceEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let arrow = if e.direction == Direction::Sent {
            ">"
        } else {
            "<"
        };
        let mut line = format!(
            "    {:>9.3} ms {arrow} {:<20} {:>5} B",
            e.at.as_secs_f64() * 1e3,
            e.message,
            e.size
        );
        if !e.facts.is_empty() {
            line.push_str("  ");
            line.push_str(&e.facts.join("; "));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
