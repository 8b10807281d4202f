/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID" type="application/json">.
   JSON: {type: "bar"|"line", labels: [...], values: [...] | datasets: [{label, data, color,
          dashed, points}], horizontal: bool, stacked: bool, percent: bool,
          markers: [{index, label}] (dashed vertical lines at those labels, e.g. a deadline)} */
(function () {
  "use strict";
  function datasets(spec) {
    if (!spec.datasets) {
      return [{ label: spec.label || "", data: spec.values, backgroundColor: "#12639e", borderColor: "#0b3d63" }];
    }
    return spec.datasets.map(function (d) {
      return {
        label: d.label, data: d.data, backgroundColor: d.color, borderColor: d.color,
        fill: spec.type === "line" && spec.stacked ? "origin" : false,
        // Points where asked, and where a line of so few points would not show.
        pointRadius: d.points || d.data.filter(function (v) { return v !== null; }).length < 3 ? 3 : 0,
        tension: 0.2, spanGaps: true,
        borderDash: d.dashed ? [6, 4] : undefined
      };
    });
  }
  // Whole numbers only (counts): no ticks at 0,5.
  function counts(spec) {
    var values = spec.values || [].concat.apply([], (spec.datasets || []).map(function (d) { return d.data; }));
    return !spec.percent && values.every(function (v) { return v === null || Number.isInteger(v); });
  }
  // Vertical dashed lines with a label at given x positions (a deadline, a decision).
  var markers = {
    id: "markers",
    afterDatasetsDraw: function (chart, args, options) {
      var list = options.list || [];
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      list.forEach(function (m) {
        var px = x.getPixelForValue(m.index);
        if (px === undefined || isNaN(px)) return;
        ctx.save();
        ctx.strokeStyle = m.color || "#b3261e";
        ctx.setLineDash([4, 4]);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = m.color || "#b3261e";
        ctx.font = "12px system-ui, sans-serif";
        ctx.textAlign = px > area.right - 60 ? "right" : "left";
        ctx.fillText(m.label, px + (ctx.textAlign === "right" ? -4 : 4), area.top + 12);
        ctx.restore();
      });
    }
  };
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var stacked = !!spec.stacked;
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets(spec) },
      plugins: [markers],
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: !!spec.datasets && !spec.noLegend, position: "bottom" },
          markers: { list: spec.markers || [] }
        },
        scales: {
          x: { stacked: stacked, beginAtZero: true, ticks: { precision: counts(spec) ? 0 : undefined } },
          y: {
            stacked: stacked, beginAtZero: true, max: spec.percent ? 100 : undefined,
            ticks: { precision: counts(spec) ? 0 : undefined }
          }
        }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
