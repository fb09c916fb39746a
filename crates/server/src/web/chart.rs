//! Charts drawn on the server as SVG, so that a page shows them without a script and without
//! anything loaded from elsewhere. Coordinates are floats (a chart's geometry, never an amount);
//! every bar carries its exact amounts in its `<title>`, which browsers show on hover.

use maud::{Markup, html};

/// Colours of the aging buckets, current first, each later bucket darker and redder.
const BUCKET_COLOURS: [&str; 8] = [
    "#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#e53935", "#b71c1c", "#6a1b9a", "#37474f",
];

/// One bar of a stacked chart: its label and, per series, the value drawn and the exact text
/// shown for it.
pub struct Bar {
    pub label: String,
    pub values: Vec<(f64, String)>,
}

/// Chart size in SVG units (the page scales it to its width).
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const MARGIN_LEFT: f64 = 90.0;
const MARGIN_BOTTOM: f64 = 40.0;
const MARGIN_TOP: f64 = 10.0;
const LEGEND_WIDTH: f64 = 130.0;

/// A stacked bar chart of `bars`, each stacked in the order of `series`.
pub fn stacked_bars(title: &str, series: &[String], bars: &[Bar]) -> Markup {
    let top = bars
        .iter()
        .map(|bar| bar.values.iter().map(|(v, _)| v.max(0.0)).sum::<f64>())
        .fold(0.0_f64, f64::max);
    let scale_top = nice_ceiling(top);
    let plot_width = WIDTH - MARGIN_LEFT - LEGEND_WIDTH;
    let plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    #[allow(clippy::cast_precision_loss)]
    let slot = plot_width / bars.len().max(1) as f64;
    let bar_width = slot * 0.7;
    let y = |value: f64| MARGIN_TOP + plot_height * (1.0 - value / scale_top);
    let ticks: Vec<f64> = (0..=4).map(|i| scale_top * f64::from(i) / 4.0).collect();
    html! {
        figure.chart {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
                role="img" aria-label=(title) {
                title { (title) }
                @for tick in &ticks {
                    line x1=(MARGIN_LEFT) x2=(MARGIN_LEFT + plot_width) y1=(y(*tick)) y2=(y(*tick))
                        stroke="#ddd" {}
                    text x=(MARGIN_LEFT - 6.0) y=(y(*tick) + 4.0) text-anchor="end" font-size="11" {
                        (thousands(*tick))
                    }
                }
                @for (index, bar) in bars.iter().enumerate() {
                    @let x = MARGIN_LEFT + slot * index as f64 + (slot - bar_width) / 2.0;
                    g.bar data-label=(bar.label) {
                        title {
                            (bar.label) ": "
                            @for (i, (_, text)) in bar.values.iter().enumerate() {
                                @if i > 0 { ", " }
                                (series.get(i).map_or("", String::as_str)) " " (text)
                            }
                        }
                        @for (i, (bottom, top)) in stacked(&bar.values).into_iter().enumerate() {
                            @if top > bottom {
                                rect x=(x) y=(y(top)) width=(bar_width)
                                    height=(y(bottom) - y(top))
                                    fill=(BUCKET_COLOURS[i % BUCKET_COLOURS.len()]) {}
                            }
                        }
                        text x=(x + bar_width / 2.0) y=(HEIGHT - MARGIN_BOTTOM + 16.0)
                            text-anchor="middle" font-size="11" { (bar.label) }
                    }
                }
                @for (i, name) in series.iter().enumerate() {
                    @let ly = MARGIN_TOP + 18.0 * i as f64;
                    rect x=(WIDTH - LEGEND_WIDTH + 10.0) y=(ly) width="12" height="12"
                        fill=(BUCKET_COLOURS[i % BUCKET_COLOURS.len()]) {}
                    text x=(WIDTH - LEGEND_WIDTH + 28.0) y=(ly + 10.0) font-size="11" { (name) }
                }
            }
        }
    }
}

/// Each value's bottom and top in the stack (negative values draw nothing).
fn stacked(values: &[(f64, String)]) -> Vec<(f64, f64)> {
    let mut bottom = 0.0;
    values
        .iter()
        .map(|(value, _)| {
            let top = bottom + value.max(0.0);
            let span = (bottom, top);
            bottom = top;
            span
        })
        .collect()
}

/// The axis's top: the first of 1, 2, 2.5, 5 times a power of ten at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|step| step * power)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * power)
}

/// An axis label: `1.5M`, `250k`, `900`.
fn thousands(value: f64) -> String {
    if value >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if value >= 1_000.0 {
        format!("{:.0}k", value / 1_000.0)
    } else {
        format!("{value:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_round_number_at_or_above_the_tallest_bar() {
        assert!((nice_ceiling(730.0) - 1000.0).abs() < 1e-9);
        assert!((nice_ceiling(1_900.0) - 2_000.0).abs() < 1e-9);
        assert!((nice_ceiling(2_100.0) - 2_500.0).abs() < 1e-9);
        assert!((nice_ceiling(0.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn every_bar_carries_its_exact_amounts() {
        let series = vec!["current".to_owned(), "1-30".to_owned()];
        let bars = vec![Bar {
            label: "2026-01".to_owned(),
            values: vec![(100.0, "100.00".to_owned()), (50.5, "50.50".to_owned())],
        }];
        let svg = stacked_bars("Aging", &series, &bars).into_string();
        assert!(svg.contains("2026-01: current 100.00, 1-30 50.50"), "{svg}");
        assert_eq!(
            svg.matches("<rect").count(),
            2 + 2,
            "two stacked and two legend boxes"
        );
    }
}
