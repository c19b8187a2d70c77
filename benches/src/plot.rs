//! SVG charts of a comparison: ratios to magpie per workload, and lateness CDFs per runtime.
//!
//! plotters is built with its SVG backend only and without `ttf`: text goes into the SVG as `<text>`
//! elements and the viewer picks the font, so no system font library is needed at build or run time.

use std::path::Path;

use magpie_examples::fanout::duration::format_micros;
use plotters::prelude::*;

use crate::summary::{WorkloadSummary, BASELINE};

/// Colours per runtime, stable across charts.
fn colour(runtime: &str) -> RGBColor {
    match runtime {
        "magpie" => RGBColor(31, 119, 180),
        "tokio" => RGBColor(214, 39, 40),
        "smol" => RGBColor(44, 160, 44),
        "asyncio" => RGBColor(148, 103, 189),
        _ => RGBColor(127, 127, 127),
    }
}

fn plot_error(error: impl std::fmt::Display) -> String {
    format!("plotting failed: {error}")
}

/// Draws the wall-time and peak-memory ratios (peer / magpie, log scale) of every workload.
pub fn draw_ratios(
    summaries: &[WorkloadSummary],
    peers: &[String],
    path: &Path,
) -> Result<(), String> {
    let root = SVGBackend::new(path, (1000, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (top, bottom) = root.split_vertically(360);
    draw_ratio_panel(
        &top,
        summaries,
        peers,
        "wall time / magpie (log scale; above 1 = magpie faster)",
        |c| c.wall_ratio,
    )?;
    draw_ratio_panel(
        &bottom,
        summaries,
        peers,
        "peak memory / magpie (log scale; above 1 = magpie leaner)",
        |c| c.memory_ratio,
    )?;
    root.present().map_err(plot_error)
}

fn draw_ratio_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    summaries: &[WorkloadSummary],
    peers: &[String],
    title: &str,
    value: impl Fn(&crate::summary::Cell) -> Option<f64>,
) -> Result<(), String> {
    let values: Vec<f64> = summaries
        .iter()
        .flat_map(|s| s.cells.iter().filter_map(&value))
        .filter(|v| *v > 0.0)
        .collect();
    let low = values.iter().copied().fold(1.0f64, f64::min) / 1.5;
    // Headroom above the tallest bar for the legend (the scale is logarithmic).
    let high = values.iter().copied().fold(1.0f64, f64::max) * 8.0;
    let groups = summaries.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..groups as f64, (low..high).log_scale())
        .map_err(plot_error)?;
    let names: Vec<String> = summaries.iter().map(|s| s.workload.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups * 2 + 1)
        .x_label_formatter(&|x| {
            let index = x.floor() as usize;
            if (x - index as f64 - 0.5).abs() < 0.01 {
                names.get(index).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.2}x"))
        .draw()
        .map_err(plot_error)?;
    let width = 0.8 / peers.len().max(1) as f64;
    for (slot, peer) in peers.iter().enumerate() {
        let bars: Vec<Rectangle<(f64, f64)>> = summaries
            .iter()
            .enumerate()
            .filter_map(|(group, s)| {
                let v = s
                    .cells
                    .iter()
                    .find(|c| &c.runtime == peer)
                    .and_then(&value)?;
                let x0 = group as f64 + 0.1 + slot as f64 * width;
                Some(Rectangle::new(
                    [(x0, low), (x0 + width * 0.9, v)],
                    colour(peer).filled(),
                ))
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(plot_error)?
            .label(peer.as_str())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour(peer).filled())
            });
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, 1.0), (groups as f64, 1.0)],
            colour(BASELINE).stroke_width(2),
        ))
        .map_err(plot_error)?
        .label("magpie = 1")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 10, y)], colour(BASELINE)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// Draws the lateness CDF of each runtime on `workload` (x: lateness, log scale).
pub fn draw_lateness_cdf(summary: &WorkloadSummary, path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let max_us = summary
        .cells
        .iter()
        .flat_map(|c| c.lateness_cdf.iter().map(|p| p.0))
        .max()
        .unwrap_or(1)
        .max(10);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "lateness CDF, workload {} (how long after its deadline a task resumed)",
                summary.workload
            ),
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((1f64..max_us as f64 * 1.2).log_scale(), 0f64..1.0)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("lateness (log scale)")
        .x_label_formatter(&|us| format_micros(*us as u64))
        .y_desc("fraction of tasks")
        .draw()
        .map_err(plot_error)?;
    for cell in summary.cells.iter().filter(|c| !c.lateness_cdf.is_empty()) {
        let points = cell
            .lateness_cdf
            .iter()
            .map(|&(us, fraction)| (f64::from(us.max(1)), fraction));
        let style = colour(&cell.runtime).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(plot_error)?
            .label(cell.runtime.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)
}
