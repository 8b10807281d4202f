/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID" type="application/json">.
   JSON: {type: "bar"|"line", labels: [...], values: [...] | datasets: [{label, data, color}],
          horizontal: bool, stacked: bool, percent: bool} */
(function () {
  "use strict";
  function datasets(spec) {
    if (!spec.datasets) {
      return [{ label: spec.label || "", data: spec.values, backgroundColor: "#12639e", borderColor: "#0b3d63" }];
    }
    return spec.datasets.map(function (d) {
      return {
        label: d.label, data: d.data, backgroundColor: d.color, borderColor: d.color,
        fill: spec.type === "line" && spec.stacked ? "origin" : false, pointRadius: 0, tension: 0.2,
        borderDash: d.dashed ? [6, 4] : undefined
      };
    });
  }
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var stacked = !!spec.stacked;
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: !!spec.datasets, position: "bottom" } },
        scales: {
          x: { stacked: stacked, beginAtZero: true },
          y: { stacked: stacked, beginAtZero: true, max: spec.percent ? 100 : undefined }
        }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
