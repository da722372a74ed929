// Contact import progress: polls the status endpoint and reloads when the step is done.
(function () {
  "use strict";
  function start(box) {
    var url = box.getAttribute("data-import-status");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[role=status]");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.done) { window.location.reload(); return; }
          if (s.percent !== null) { bar.value = s.percent; bar.textContent = s.percent + "%"; }
          else { bar.removeAttribute("value"); }
          text.textContent = s.rows_processed.toLocaleString() + " rows read" +
            (s.rows_total ? " of " + s.rows_total.toLocaleString() : "") + " (" + s.status_display + ")…";
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 500);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-import-status]").forEach(start);
  });
})();
