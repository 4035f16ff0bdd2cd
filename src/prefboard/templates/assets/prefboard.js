/* prefboard: render the inline Vega-Lite specs with the locally served vega-embed, follow
   Material's light/dark palette, and make data tables sortable. No network requests. */
(function () {
  "use strict";

  var INK_DARK = "#e2e4e9";
  var GRID_DARK = "#3b3f4a";
  var DARK = {
    background: "transparent",
    axis: { labelColor: INK_DARK, titleColor: INK_DARK, gridColor: GRID_DARK, domainColor: "#8a8f9c", tickColor: "#8a8f9c" },
    legend: { labelColor: INK_DARK, titleColor: INK_DARK },
    header: { labelColor: INK_DARK, titleColor: INK_DARK },
    title: { color: INK_DARK, subtitleColor: INK_DARK },
    text: { color: INK_DARK },
    view: { stroke: GRID_DARK }
  };
  var LIGHT = { background: "transparent" };

  function isDark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function renderCharts() {
    if (typeof window.vegaEmbed !== "function") {
      return;
    }
    var blocks = document.querySelectorAll(".pb-chart");
    Array.prototype.forEach.call(blocks, function (block) {
      var source = block.querySelector('script[type="application/json"]');
      if (!source) {
        return;
      }
      var view = block.querySelector(".pb-chart-view");
      if (!view) {
        view = document.createElement("div");
        view.className = "pb-chart-view";
        block.appendChild(view);
      }
      var spec = JSON.parse(source.textContent);
      window.vegaEmbed(view, spec, {
        renderer: "svg",
        actions: { export: true, source: false, compiled: false, editor: false },
        config: isDark() ? DARK : LIGHT
      }).then(function () {
        block.setAttribute("data-rendered", "true");
      });
    });
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) {
      return "";
    }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }

  function compare(a, b) {
    var x = parseFloat(a);
    var y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) !== "NaN") {
      return x - y;
    }
    return a.localeCompare(b);
  }

  function makeSortable(table) {
    if (table.getAttribute("data-sortable-ready")) {
      return;
    }
    table.setAttribute("data-sortable-ready", "true");
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      th.setAttribute("tabindex", "0");
      th.setAttribute("role", "button");
      var sort = function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(cellValue(r1, index), cellValue(r2, index));
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  }

  function init() {
    renderCharts();
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), makeSortable);
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
  new MutationObserver(renderCharts).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme"]
  });
})();
