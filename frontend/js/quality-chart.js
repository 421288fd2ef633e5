// The notification quality chart: the share marked poor per team and month.
//
// The figures come from the page's <script type="application/json"> block (the
// same figures as the table under the chart, which is the accessible version);
// no inline script, so it works under the Content-Security-Policy.
(function () {
  "use strict";

  const canvas = document.getElementById("quality-chart");
  const source = document.getElementById("quality-chart-data");
  if (!canvas || !source || typeof window.Chart === "undefined") {
    return;
  }
  let data;
  try {
    data = JSON.parse(source.textContent || "{}");
  } catch (error) {
    return;
  }
  // Distinguishable colours from the GOV.UK palette; "All teams" is black and thicker.
  const COLOURS = [
    "#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92",
    "#28a197", "#912b88", "#b58840", "#5694ca", "#d53880",
  ];
  const datasets = (data.datasets || []).map(function (set, index) {
    const total = index === 0;
    const colour = total ? "#0b0c0c" : COLOURS[(index - 1) % COLOURS.length];
    return {
      label: set.label,
      data: set.data,
      borderColor: colour,
      backgroundColor: colour,
      borderWidth: total ? 4 : 2,
      borderDash: total ? [] : [[], [6, 3], [2, 2]][Math.floor((index - 1) / COLOURS.length) % 3],
      spanGaps: true,
      tension: 0,
    };
  });
  new window.Chart(canvas, {
    type: "line",
    data: { labels: data.labels || [], datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      aspectRatio: 2,
      scales: {
        y: {
          beginAtZero: true,
          suggestedMax: 100,
          title: { display: true, text: "Share marked poor (%)" },
          ticks: {
            callback: function (value) {
              return value + "%";
            },
          },
        },
      },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (item) {
              return item.dataset.label + ": " + (item.parsed.y === null ? "none received" : item.parsed.y + "%");
            },
          },
        },
      },
    },
  });
})();
