// Every chart on every page. A template draws one with
//   {{ data|json_script:"some-id" }} <canvas data-chart="NAME" data-chart-data="some-id"></canvas>
// (or data-chart-json="..." for a small series in the attribute itself); NAME picks the
// builder below. Data is only ever parsed as JSON, never run as code, so a provider or
// campaign name cannot break out of a chart, and pages need no inline script.
(function () {
  "use strict";

  const PALETTE = ["#1f5fa8", "#f5b82e", "#067647", "#b42318", "#6b2c4a", "#2c6b4f", "#b54708", "#5d6b7c"];
  const CATEGORY_PALETTE = ["#1f5fa8", "#b42318", "#067647", "#b54708", "#6941c6", "#0e7090", "#c11574", "#4e5ba6", "#7a5af8",
    "#d92d20", "#15b79e", "#f79009", "#667085", "#2e90fa", "#ee46bc", "#a15c07", "#3b7c0f"];
  const LEGAL_PALETTE = ["#1f5fa8", "#6b2c4a", "#067647", "#b54708", "#5d6b7c", "#b42318", "#2c6b4f", "#f5b82e"];
  const NO_LEGEND = { legend: { display: false } };
  const COUNT_AXIS = { beginAtZero: true, ticks: { precision: 0 } };

  function pairs(rows) {
    return { labels: rows.map((r) => r[0]), values: rows.map((r) => r[1]) };
  }

  function legalChart(kind, rows, options) {
    const p = pairs(rows);
    const doughnut = kind === "doughnut";
    return {
      type: kind,
      data: { labels: p.labels, datasets: [{ label: "Requests", data: p.values, backgroundColor: doughnut ? LEGAL_PALETTE : "#1f5fa8" }] },
      options: Object.assign({ maintainAspectRatio: false, plugins: { legend: { display: doughnut, position: "right" } }, scales: doughnut ? {} : { y: COUNT_AXIS } }, options || {}),
    };
  }

  // Series stacked into one bar per label: each series is [label, its key in d, colour].
  function stackedBars(d, series) {
    return { labels: d.labels, datasets: series.map(([label, key, colour]) => ({ label, data: d[key], backgroundColor: colour, stack: "s" })) };
  }

  const builders = {
    // ingest: accepted reports per reporter, stacked; data-compact for the home panel
    intake(d, canvas) {
      const compact = canvas.dataset.compact !== undefined;
      d.datasets.forEach((s, i) => { s.backgroundColor = PALETTE[i % PALETTE.length]; s.borderWidth = 0; });
      return {
        type: "bar", data: d,
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: !compact, position: "bottom" }, tooltip: { mode: "index", intersect: false } },
          scales: {
            x: { stacked: true, ticks: { maxTicksLimit: compact ? 4 : 12, maxRotation: 0 } },
            y: { stacked: true, beginAtZero: true, ticks: { maxTicksLimit: compact ? 4 : 10 }, title: { display: !compact, text: "reports accepted" } },
          },
        },
      };
    },

    "shaken-verdicts": (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "Calls", data: d.data, backgroundColor: ["#2e9e5b", "#c0392b", "#d68910", "#8e44ad", "#c0392b", "#7f1d1d", "#e74c3c", "#d4a017"] }] },
      options: { indexAxis: "y", plugins: NO_LEGEND, maintainAspectRatio: false },
    }),
    "shaken-attest": (d) => ({
      type: "doughnut",
      data: { labels: d.labels.map((a) => "Attest " + a), datasets: [{ data: d.data, backgroundColor: ["#2e9e5b", "#3b6fd8", "#d68910"] }] },
      options: { maintainAspectRatio: false },
    }),
    "shaken-signers": (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: [
        { label: "A", data: d.a, backgroundColor: "#2e9e5b" }, { label: "B", data: d.b, backgroundColor: "#3b6fd8" },
        { label: "C", data: d.c, backgroundColor: "#d68910" }, { label: "Failed", data: d.failed, backgroundColor: "#c0392b" }] },
      options: { indexAxis: "y", maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true } } },
    }),

    "traceback-outcomes": (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "Tracebacks", data: d.data, backgroundColor: "#3b6fd8" }] },
      options: { indexAxis: "y", plugins: NO_LEGEND, maintainAspectRatio: false },
    }),

    "alerts-daily": (d) => ({
      type: "bar",
      data: { labels: d.map((r) => r.day), datasets: [{ label: "Reports", data: d.map((r) => r.n), backgroundColor: "#1f5fa8", maxBarThickness: 40 }] },
      options: { maintainAspectRatio: false, plugins: NO_LEGEND, scales: { y: COUNT_AXIS } },
    }),
    "alerts-states": (d) => ({
      type: "bar",
      data: { labels: Object.keys(d), datasets: [{ label: "Reports", data: Object.values(d), backgroundColor: "#6b2c4a", maxBarThickness: 40 }] },
      options: { indexAxis: "y", maintainAspectRatio: false, plugins: NO_LEGEND, scales: { x: COUNT_AXIS } },
    }),

    "orgs-by-kind": (rows) => ({
      type: "bar",
      data: { labels: rows.map((r) => r[0]), datasets: [{ label: "Organisations", data: rows.map((r) => r[1]), backgroundColor: ["#2c4a6b", "#2c6b4f", "#6b5a2c", "#6b2c4a"] }] },
      options: { animation: false, maintainAspectRatio: false, plugins: NO_LEGEND, scales: { y: COUNT_AXIS } },
    }),
    signins: (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "Signed in", data: d.ok, backgroundColor: "#1f5fa8" }, { label: "Failed", data: d.failed, backgroundColor: "#b42318" }] },
      options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, COUNT_AXIS) } },
    }),

    "campaign-categories": (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: d.series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: CATEGORY_PALETTE[i % CATEGORY_PALETTE.length] })) },
      options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    }),
    "campaign-volume": (d) => ({
      data: { labels: d.labels, datasets: [
        { type: "bar", label: "Reports", data: d.volume, backgroundColor: "#1f5fa8", yAxisID: "y" },
        { type: "line", label: "New caller IDs", data: d.new_caller_ids, borderColor: "#b54708", yAxisID: "y1", tension: 0.2 }] },
      options: { maintainAspectRatio: false, scales: {
        y: { beginAtZero: true, title: { display: true, text: "reports" } },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "new caller IDs" } } } },
    }),
    "campaign-states": (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "Reports", data: d.data, backgroundColor: "#067647" }] },
      options: { maintainAspectRatio: false, plugins: NO_LEGEND },
    }),

    "legal-type": (rows) => legalChart("bar", rows, { indexAxis: "y", scales: { x: COUNT_AXIS } }),
    "legal-status": (rows) => legalChart("doughnut", rows.filter((r) => r[1] > 0)),
    "legal-level": (rows) => legalChart("doughnut", rows),
    "legal-state": (rows) => legalChart("bar", rows),

    "provider-answers": (d) => ({
      type: "bar",
      data: stackedBars(d, [["On time", "on_time", "#067647"], ["Late", "late", "#f5b82e"], ["Never answered", "never", "#b42318"]]),
      options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    }),
    "provider-roles": (d) => ({
      data: { labels: d.labels, datasets: [
        { type: "line", label: "Median answer (h)", data: d.median_hours, borderColor: "#1f5fa8", yAxisID: "h" },
        { type: "bar", label: "Originating", data: d.originating, backgroundColor: "#6b2c4a", yAxisID: "n" },
        { type: "bar", label: "US point of entry", data: d.gateway, backgroundColor: "#b54708", yAxisID: "n" }] },
      options: { maintainAspectRatio: false, scales: {
        h: { position: "left", beginAtZero: true, title: { display: true, text: "hours" } },
        n: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } },
    }),
    "noncooperative-runs": (d) => ({
      type: "line",
      data: { labels: d.labels, datasets: [
        { label: "Flagged providers", data: d.providers, borderColor: "#b42318" },
        { label: "Active flags", data: d.flags, borderColor: "#b54708" }] },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    }),
    "noncooperative-trend": (t) => ({
      type: "bar",
      data: stackedBars(t, [["Never answered", "never", "#b42318"], ["Originated / let in", "roles", "#6b2c4a"], ["No record", "no_record", "#f5b82e"]]),
      options: { maintainAspectRatio: false, animation: false, plugins: NO_LEGEND,
        scales: { x: { display: false, stacked: true }, y: { display: false, stacked: true, beginAtZero: true } } },
    }),
  };

  function data(canvas) {
    if (canvas.dataset.chartJson !== undefined) return JSON.parse(canvas.dataset.chartJson);
    const source = document.getElementById(canvas.dataset.chartData);
    return source ? JSON.parse(source.textContent) : null;
  }

  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const build = builders[canvas.dataset.chart];
      const d = data(canvas);
      if (!build || d === null) {
        console.warn("chart " + canvas.dataset.chart + ": no builder or no data");
        return;
      }
      new window.Chart(canvas, build(d, canvas));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
