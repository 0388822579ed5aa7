/* Draws the dashboard's charts with the vendored Chart.js. The data comes from the
   <script type="application/json" id="metrics-charts"> block (Django's json_script), so no
   inline script is needed and the CSP holds. Each chart's numbers are also in a table. */
(function () {
  "use strict";
  var source = document.getElementById("metrics-charts");
  if (!source || typeof Chart === "undefined") { return; }
  var specs = JSON.parse(source.textContent);
  var palette = ["#1f5fa8", "#e07b00", "#1e7b45", "#b42318", "#6b4fbb", "#0f766e"];
  var narrow = window.matchMedia("(max-width: 600px)").matches;
  Chart.defaults.font.family = '"DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, sans-serif';
  Chart.defaults.font.size = narrow ? 10 : 12;
  Chart.defaults.color = "#5b6676";
  window.qmsCharts = {};

  Object.keys(specs).forEach(function (id) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    var spec = specs[id];
    var datasets = spec.datasets.map(function (ds, index) {
      var colour = palette[index % palette.length];
      var type = ds.type || (spec.type === "line" ? "line" : "bar");
      return {
        label: ds.label,
        data: ds.data,
        type: type,
        yAxisID: ds.yAxisID || "y",
        borderColor: colour,
        backgroundColor: type === "bar" ? colour + "cc" : colour,
        borderWidth: type === "line" ? 2 : 0,
        pointRadius: type === "line" ? (narrow ? 1.5 : 3) : 0,
        tension: 0.3,
        cubicInterpolationMode: "monotone",
        spanGaps: true,
        order: type === "line" ? 0 : 1
      };
    });
    var scales = {
      x: { grid: { display: false }, ticks: { autoSkip: true, maxRotation: narrow ? 60 : 30 } },
      y: { beginAtZero: true, grid: { color: "#eef1f5" } }
    };
    if (spec.min !== undefined) { scales.y.min = spec.min; }
    if (spec.max !== undefined) { scales.y.max = spec.max; }
    if (spec.unit === "%") { scales.y.ticks = { callback: function (v) { return v + "%"; } }; }
    if (spec.pareto) {
      scales.y1 = { position: "right", min: 0, max: 100, grid: { display: false },
                    ticks: { callback: function (v) { return v + "%"; } } };
    }
    var horizontal = !!spec.horizontal;
    if (horizontal) {
      scales = { x: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } },
                 y: { grid: { display: false } } };
    }
    var empty = !spec.labels.length;
    canvas.parentElement.classList.toggle("is-empty", empty);
    if (empty) {
      canvas.parentElement.setAttribute("data-empty", "No data in this period");
    }
    window.qmsCharts[id] = new Chart(canvas, {
      type: spec.type === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: datasets.length > 1, position: "bottom", labels: { boxWidth: 12 } } },
        scales: scales
      }
    });
  });
}());
