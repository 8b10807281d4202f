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
  // A vertical axis gets at most half the chart's width from Chart.js, which cuts a longer
  // label off at the left edge. Names are wrapped onto two lines that fit and end in "…"
  // when even that is too short (the tooltip names them in full).
  var measure = document.createElement("canvas").getContext("2d");
  function fitted(text, width) {
    var lines = [], line = "";
    String(text).split(/\s+/).forEach(function (word) {
      var next = line ? line + " " + word : word;
      if (line && measure.measureText(next).width > width) { lines.push(line); line = word; } else { line = next; }
    });
    if (line) lines.push(line);
    if (lines.length > 2) lines = [lines[0], lines.slice(1).join(" ")];
    return lines.map(function (l) {
      if (measure.measureText(l).width <= width) return l;
      while (l.length > 1 && measure.measureText(l + "…").width > width) l = l.slice(0, -1);
      return l + "…";
    });
  }
  function wrappedLabel(value) {
    var ticks = this.options.ticks;
    measure.font = Chart.helpers.toFont(ticks.font).string;
    return fitted(this.getLabelForValue(value), this.chart.width / 2 - ticks.padding - 8);
  }
  // A horizontal chart's box grows when its wrapped names need more height than it has
  // (about 14 px a line and 8 between bars, plus the axis and the legend).
  function roomForLabels(box, spec) {
    if (!box.clientWidth) return; // not shown (a closed <details>): its own size stands
    measure.font = Chart.helpers.toFont(Chart.defaults.font).string;
    var width = box.clientWidth / 2 - 11, needed = 60 + (spec.datasets ? 40 : 0);
    (spec.labels || []).forEach(function (label) { needed += fitted(label, width).length * 14 + 8; });
    if (needed > box.clientHeight) box.style.height = needed + "px";
  }
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var stacked = !!spec.stacked;
    if (spec.horizontal) roomForLabels(canvas.parentNode, spec);
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
          // Dates along the bottom stay level; those that do not fit are skipped.
          x: { stacked: stacked, beginAtZero: true, ticks: { precision: counts(spec) ? 0 : undefined, autoSkip: true, maxRotation: 0 } },
          y: {
            stacked: stacked, beginAtZero: true, max: spec.percent ? 100 : undefined,
            ticks: { precision: counts(spec) ? 0 : undefined, autoSkip: !spec.horizontal, callback: spec.horizontal ? wrappedLabel : undefined }
          }
        }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
