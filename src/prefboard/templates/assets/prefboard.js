/* prefboard: render the inline Vega-Lite specs with the locally served vega-embed, follow
   Material's light/dark palette, make data tables sortable and let readers show the columns a
   narrow screen hides. No network requests. */
(function () {
  "use strict";

  // Categorical colours come from the theme, not the specs, so each palette gets its own set:
  // Okabe & Ito's colour-blind-safe hues, darkened for white (>= 3.8:1 against it) and
  // lightened for Material's slate (>= 6.7:1). Order: blue, orange, green, pink, amber, grey.
  var CATEGORY_LIGHT = ["#0072B2", "#B84E00", "#007A5A", "#AA3377", "#8A6100", "#4F5B66",
    "#6A3D9A", "#B2182B", "#1F5F8B", "#5C6B00"];
  var CATEGORY_DARK = ["#56B4E9", "#E69F00", "#3DD6A3", "#F28EC2", "#F0E442", "#BBBBBB",
    "#B39DDB", "#FF8A65", "#90CAF9", "#C5E1A5"];
  var INK_LIGHT = "#1b1b1b";
  var INK_DARK = "#e2e4e9";
  var GRID_DARK = "#3b3f4a";
  var DARK = {
    background: "transparent",
    range: { category: CATEGORY_DARK },
    axis: { labelColor: INK_DARK, titleColor: INK_DARK, gridColor: GRID_DARK, domainColor: "#8a8f9c", tickColor: "#8a8f9c" },
    legend: { labelColor: INK_DARK, titleColor: INK_DARK },
    header: { labelColor: INK_DARK, titleColor: INK_DARK },
    title: { color: INK_DARK, subtitleColor: INK_DARK },
    text: { color: INK_DARK },
    view: { stroke: GRID_DARK }
  };
  var LIGHT = {
    background: "transparent",
    range: { category: CATEGORY_LIGHT },
    axis: { labelColor: INK_LIGHT, titleColor: INK_LIGHT },
    legend: { labelColor: INK_LIGHT, titleColor: INK_LIGHT },
    text: { color: INK_LIGHT }
  };

  function isDark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function specText(block) {
    // The spec sits in a <template> so that Material's instant navigation, which re-creates
    // every <script> of a new page without its type attribute, never runs it as JavaScript.
    var template = block.querySelector("template");
    var root = template ? template.content : block;
    var source = root.querySelector('script[type="application/json"]');
    return source ? source.textContent : null;
  }

  function download(name, href) {
    var a = document.createElement("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function chartData(spec) {
    // Every inline dataset of the spec (a layered chart keeps one per layer), once each.
    var out = [];
    var seen = [];
    (function walk(node) {
      if (Array.isArray(node)) { node.forEach(walk); return; }
      if (!node || typeof node !== "object") { return; }
      if (node.data && Array.isArray(node.data.values) && seen.indexOf(node.data.values) < 0) {
        seen.push(node.data.values);
        out = out.concat(node.data.values);
      }
      Object.keys(node).forEach(function (k) { if (k !== "data") { walk(node[k]); } });
    })(spec);
    return out;
  }

  function addLinks(block, spec) {
    // vega-embed's own "..." menu is a <details> that Material styles as a note box over the
    // chart; a plain link row under the chart covers nothing.
    if (block.querySelector(".pb-chart-links")) {
      return;
    }
    var name = block.id || "chart";
    var row = document.createElement("p");
    row.className = "pb-chart-links";
    row.appendChild(document.createTextNode("Download: "));
    [["SVG", "svg"], ["PNG", "png"], ["data (JSON)", "json"]].forEach(function (item, i) {
      if (i > 0) { row.appendChild(document.createTextNode(" · ")); }
      var a = document.createElement("a");
      a.href = "#";
      a.textContent = item[0];
      a.setAttribute("data-format", item[1]);
      a.addEventListener("click", function (e) {
        e.preventDefault();
        if (item[1] === "json") {
          var blob = new Blob([JSON.stringify(chartData(spec), null, 1)], { type: "application/json" });
          var url = URL.createObjectURL(blob);
          download(name + ".json", url);
          setTimeout(function () { URL.revokeObjectURL(url); }, 0);
        } else if (block._pbView) {
          block._pbView.toImageURL(item[1], item[1] === "png" ? 2 : 1).then(function (url) {
            download(name + "." + item[1], url);
          });
        }
      });
      row.appendChild(a);
    });
    block.appendChild(row);
  }

  function renderCharts() {
    if (typeof window.vegaEmbed !== "function") {
      return;
    }
    var blocks = document.querySelectorAll(".pb-chart");
    Array.prototype.forEach.call(blocks, function (block) {
      var text = specText(block);
      if (text === null) {
        return;
      }
      var view = block.querySelector(".pb-chart-view");
      if (!view) {
        view = document.createElement("div");
        view.className = "pb-chart-view";
        block.insertBefore(view, block.firstChild);
      }
      var spec = JSON.parse(text);
      if (block._pbResult) {
        block._pbResult.finalize();  // re-render on a palette switch: drop the old view's timers
      }
      block.removeAttribute("data-rendered");
      window.vegaEmbed(view, spec, {
        renderer: "svg",
        actions: false,
        config: isDark() ? DARK : LIGHT
      }).then(function (result) {
        block._pbResult = result;
        block._pbView = result.view;
        addLinks(block, spec);
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

  function numeric(text) {
    // Cells print numbers as people read them ("17,081", "\u22121.50", "<0.1%"); read them
    // back as numbers: no thousands separators, U+2212 as "-", no leading "<", ">" or "+".
    return parseFloat(text.replace(/,/g, "").replace(/\u2212/g, "-").replace(/^[<>+\u00b1]/, ""));
  }

  function compare(a, b) {
    var x = numeric(a);
    var y = numeric(b);
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

  function addColumnToggle(table) {
    // Columns marked secondary are hidden on narrow screens (see prefboard.css); one button
    // above the table brings them back, and the table's wrapper then scrolls sideways.
    var secondary = table.querySelectorAll("thead th.pb-secondary");
    if (!secondary.length || table.getAttribute("data-toggle-ready")) {
      return;
    }
    table.setAttribute("data-toggle-ready", "true");
    var anchor = table.closest(".md-typeset__scrollwrap") || table;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "pb-columns-toggle";
    button.setAttribute("aria-expanded", "false");
    var label = function () {
      var open = table.classList.contains("pb-all-columns");
      button.textContent = open ? "Fewer columns" : "All columns (+" + secondary.length + ")";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    };
    button.addEventListener("click", function () {
      table.classList.toggle("pb-all-columns");
      label();
    });
    label();
    anchor.parentNode.insertBefore(button, anchor);
  }

  function addModelToggle(table) {
    // Rankings show public models; rows of private and retired variants are in the page but
    // hidden (see prefboard.css) until this button shows every model. Without JavaScript the
    // public view stays, which is the default a reader should get.
    var hidden = table.getAttribute("data-unreleased");
    if (!hidden || table.getAttribute("data-models-ready")) {
      return;
    }
    table.setAttribute("data-models-ready", "true");
    var anchor = table.closest(".md-typeset__scrollwrap") || table;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "pb-models-toggle";
    var label = function () {
      var all = table.classList.contains("pb-all-models");
      button.textContent = all ? "Public models only" : "All models (+" + hidden + " private or retired)";
      button.setAttribute("aria-pressed", all ? "true" : "false");
    };
    button.addEventListener("click", function () {
      table.classList.toggle("pb-all-models");
      label();
    });
    label();
    anchor.parentNode.insertBefore(button, anchor);
  }

  function initSwitch(box) {
    // The category switcher (render/pages/categories.py): every ranking is already in the page;
    // the select only chooses which block is visible. Ids are generated, never contributor text.
    if (box.getAttribute("data-pb-switch-ready")) {
      return;
    }
    var select = box.querySelector("select[data-pb-switch-select]");
    var all = box.querySelector("[data-pb-switch-all]");
    if (!select || !all) {
      return;
    }
    box.setAttribute("data-pb-switch-ready", "true");
    var tables = box.querySelectorAll("[data-pb-switch-table]");
    var show = function () {
      var chosen = select.value;
      all.hidden = chosen !== "";
      Array.prototype.forEach.call(tables, function (t) {
        t.hidden = t.getAttribute("data-pb-switch-table") !== chosen;
      });
    };
    select.closest(".pb-switch-control").hidden = false;
    select.addEventListener("change", show);
    show();
  }

  function init() {
    renderCharts();
    Array.prototype.forEach.call(document.querySelectorAll("[data-pb-switch]"), initSwitch);
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), function (t) {
      makeSortable(t);
      addColumnToggle(t);
      addModelToggle(t);
    });
  }

  // Material's document$ emits on the first load and after every instant navigation, when the
  // new page's content is in place; without Material (a bare page) fall back to the DOM event.
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
