// Dashboard charts (Chart.js, served by the app) and sortable tables. The data comes from
// <script type="application/json"> blocks: the CSP forbids inline script.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var red = "#b3261e", gold = "#c8901a";
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    var trend = data("trend-data");
    if (trend && document.getElementById("trend-chart")) {
      new window.Chart(document.getElementById("trend-chart"), {
        data: {
          labels: trend.labels,
          datasets: [
            { type: "bar", label: trend.hoursLabel, data: trend.hours, backgroundColor: red, yAxisID: "y" },
            { type: "line", label: trend.completionsLabel, data: trend.completions, borderColor: gold,
              backgroundColor: gold, yAxisID: "y1", tension: 0.3 }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          scales: { y: { beginAtZero: true, position: "left" },
                    y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } }
        }
      });
    }
    var member = data("member-data");
    if (member && document.getElementById("member-chart")) {
      new window.Chart(document.getElementById("member-chart"), {
        type: "bar",
        data: { labels: member.labels, datasets: [{ label: member.hoursLabel, data: member.hours, backgroundColor: red }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
      });
    }
  }
  // Click a header of a sortable table: sort by that column (numbers numerically), again to reverse.
  function sortable(table) {
    table.addEventListener("click", function (event) {
      var button = event.target.closest("button.sort");
      if (!button) { return; }
      var col = Number(button.getAttribute("data-col"));
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var descending = button.getAttribute("aria-sort") !== "descending";
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-value"), y = b.cells[col].getAttribute("data-value");
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y), "zh");
        return descending ? -cmp : cmp;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      table.querySelectorAll("button.sort").forEach(function (b) { b.removeAttribute("aria-sort"); });
      button.setAttribute("aria-sort", descending ? "descending" : "ascending");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw();
    document.querySelectorAll("table.sortable").forEach(sortable);
  });
})();
