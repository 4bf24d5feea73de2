//! `tlshake bench --plot FILE.svg`: a latency histogram of each implementation, as plain SVG.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 420.0;
const MARGIN: f64 = 60.0;
const BINS: usize = 60;
const COLOURS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Writes one outlined histogram per series (latencies in ms), on shared axes cut at the
/// 99.5th percentile of all samples so that one outlier does not flatten the picture.
pub(super) fn write_latency_histogram(path: &Path, series: &[(&str, &[f64])]) -> io::Result<()> {
    std::fs::write(path, render(series))
}

fn render(series: &[(&str, &[f64])]) -> String {
    let mut all: Vec<f64> = series.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    all.sort_by(f64::total_cmp);
    let top = match all.len() {
        0 => 1.0,
        n => all[((n - 1) as f64 * 0.995) as usize].max(1e-3),
    };
    let width = top / BINS as f64;
    let counts: Vec<Vec<usize>> = series
        .iter()
        .map(|(_, v)| {
            let mut bins = vec![0usize; BINS];
            for x in v.iter() {
                let i = ((x / width) as usize).min(BINS - 1);
                bins[i] += 1;
            }
            bins
        })
        .collect();
    let peak = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let plot_w = WIDTH - 2.0 * MARGIN;
    let plot_h = HEIGHT - 2.0 * MARGIN;
    let x_of = |i: usize| MARGIN + plot_w * i as f64 / BINS as f64;
    let y_of = |c: usize| HEIGHT - MARGIN - plot_h * c as f64 / peak;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">Full handshake latency (ms)</text>"#,
        WIDTH / 2.0
    );
    // Axes and ticks.
    let (x0, y0) = (MARGIN, HEIGHT - MARGIN);
    let _ = writeln!(
        svg,
        r#"<path d="M{x0},{MARGIN} V{y0} H{}" stroke="black" fill="none"/>"#,
        WIDTH - MARGIN
    );
    for t in 0..=5 {
        let x = x0 + plot_w * t as f64 / 5.0;
        let _ = writeln!(
            svg,
            r#"<text x="{x}" y="{}" text-anchor="middle">{:.2}</text>"#,
            y0 + 18.0,
            top * t as f64 / 5.0
        );
        let y = y0 - plot_h * t as f64 / 5.0;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{:.0}</text>"#,
            x0 - 6.0,
            y + 4.0,
            peak * t as f64 / 5.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">latency (ms)</text>"#,
        WIDTH / 2.0,
        HEIGHT - 18.0
    );
    // One step outline per series, with a legend entry.
    for (k, ((name, values), bins)) in series.iter().zip(&counts).enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut d = format!("M{x0},{y0}");
        for (i, c) in bins.iter().enumerate() {
            let _ = write!(d, " V{:.1} H{:.1}", y_of(*c), x_of(i + 1));
        }
        let _ = write!(d, " V{y0}");
        let _ = writeln!(
            svg,
            r#"<path d="{d}" stroke="{colour}" stroke-width="1.5" fill="{colour}" fill-opacity="0.15"/>"#
        );
        let ly = MARGIN + 16.0 * k as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}">{} ({} handshakes)</text>"#,
            WIDTH - MARGIN - 200.0,
            ly,
            WIDTH - MARGIN - 182.0,
            ly + 10.0,
            escape(name),
            values.len()
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_outline_per_series() {
        let a = [1.0, 1.1, 1.2, 5.0];
        let b = [2.0, 2.5];
        let svg = render(&[("tlshake", &a), ("openssl crate", &b)]);
        assert!(svg.starts_with("<svg"));
        assert_eq!(
            svg.matches("<path d=\"M60,").count(),
            3,
            "axes + two outlines"
        );
        assert!(svg.contains("tlshake (4 handshakes)"));
        assert!(svg.contains("openssl crate (2 handshakes)"));
        assert!(render(&[("empty", &[])]).ends_with("</svg>\n"));
    }
}
