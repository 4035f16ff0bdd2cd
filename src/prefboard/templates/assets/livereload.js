/* Added by `prefboard serve` to each page it sends (never written into site/): reload the page
   when the build stamp changes. */
(function () {
  "use strict";
  var last = null;
  setInterval(function () {
    fetch("/build-stamp.txt", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (stamp) {
        if (stamp === null) { return; }
        if (last !== null && stamp !== last) { window.location.reload(); }
        last = stamp;
      })
      .catch(function () { /* server restarting: try again next tick */ });
  }, 1500);
})();
