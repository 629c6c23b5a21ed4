//! Request counters and latency histograms per route, rendered in the Prometheus text format.
//!
//! A small registry of our own: two metric families and the dependency gauges do not justify a metrics framework,
//! and the routes are a fixed, small set (the route *pattern* is the label, never the raw path).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use diningcoach_kernel::health::Gauge;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    registry: Mutex<Registry>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut registry) = self.registry.lock() else {
            return;
        };
        *registry
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let histogram = registry
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
    }

    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::with_capacity(4096);
        if let Ok(registry) = self.registry.lock() {
            out.push_str(
                "# HELP http_requests_total HTTP requests answered, by route pattern and status\n",
            );
            out.push_str("# TYPE http_requests_total counter\n");
            for ((method, route, status), count) in &registry.requests {
                let _ = writeln!(
                    out,
                    "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
            out.push_str("# HELP http_request_duration_seconds Time to answer HTTP requests, by route pattern\n");
            out.push_str("# TYPE http_request_duration_seconds histogram\n");
            for ((method, route), histogram) in &registry.latency {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                let mut cumulative = 0;
                for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                    cumulative += count;
                    let _ = writeln!(
                        out,
                        "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_sum{{{labels}}} {}",
                    histogram.sum
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_count{{{labels}}} {}",
                    histogram.count
                );
            }
        }
        for gauge in gauges {
            let _ = writeln!(out, "# HELP {} {}", gauge.name, gauge.help);
            let _ = writeln!(out, "# TYPE {} gauge", gauge.name);
            let _ = writeln!(out, "{} {}", gauge.name, gauge.value);
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_cumulative_buckets_and_gauges() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/api/v1/foods/{id}", 200, 0.004);
        metrics.observe("GET", "/api/v1/foods/{id}", 200, 0.2);
        metrics.observe("GET", "/api/v1/foods/{id}", 404, 0.001);
        let text = metrics.render(&[Gauge {
            name: "outbox_pending_jobs",
            help: "Jobs waiting",
            value: 3.0,
        }]);
        assert!(text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/foods/{id}",status="200"} 2"#
        ));
        assert!(text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/foods/{id}",status="404"} 1"#
        ));
        assert!(text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/foods/{id}",le="0.005"} 2"#));
        assert!(text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/foods/{id}",le="+Inf"} 3"#));
        assert!(text.contains("# TYPE outbox_pending_jobs gauge\noutbox_pending_jobs 3\n"));
    }
}
