// The customer list's selection (customers/index.html): "select all on this page" ticks
// every row, and unticking a row unticks it, so that what the boxes show is what is sent.
// Without this script the form still works: the server reads "all on this page" itself.
(function () {
  "use strict";
  function ready() {
    var all = document.querySelector("input[data-select-all]");
    var form = document.getElementById("selection");
    if (!all || !form) {
      return;
    }
    var rows = document.querySelectorAll('input[type=checkbox][name=ids][form="selection"]');
    all.addEventListener("change", function () {
      rows.forEach(function (box) {
        box.checked = all.checked;
      });
    });
    rows.forEach(function (box) {
      box.addEventListener("change", function () {
        all.checked = Array.prototype.every.call(rows, function (r) {
          return r.checked;
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
