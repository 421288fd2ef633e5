// The performance dashboard's charts (/reports/performance/).
//
// Each <canvas data-chart="ID"> is drawn with Chart.js from the JSON in the
// <script type="application/json" id="ID"> beside it: the same numbers as the
// table under it. No inline script (our CSP), no eval (Chart.js's UMD build needs
// none), no animation for those who ask for less motion.
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }
  // GOV.UK Frontend's colours, distinct for common kinds of colour blindness.
  const COLOURS = ["#1d70b8", "#f47738", "#00703c", "#4c2c92", "#d4351c", "#505a5f"];
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function suffix(unit) {
    if (unit === "%") {
      return "%";
    }
    return unit ? " " + unit : "";
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    const spec = JSON.parse(source.textContent);
    const horizontal = spec.type === "horizontal_bar";
    const line = spec.type === "line";
    const unit = suffix(spec.unit);
    const valueAxis = {
      beginAtZero: true,
      ticks: {
        callback: function (value) {
          return value + unit;
        },
      },
    };
    if (spec.unit === "%") {
      valueAxis.max = 100;
    }
    const datasets = spec.datasets.map(function (set, index) {
      const colour = COLOURS[index % COLOURS.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 2 : 0,
        spanGaps: false,
      };
    });
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: still ? false : { duration: 300 },
        scales: horizontal ? { x: valueAxis } : { y: valueAxis },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                const value = item.raw === null ? "no figure" : item.formattedValue + unit;
                return item.dataset.label + ": " + value;
              },
            },
          },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
