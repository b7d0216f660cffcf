// The header's menu on a phone: one button opens and closes it (aria-expanded says which),
// Escape closes it and gives the focus back to the button. On a desk the button is not shown
// and the menu is always open; without this script the menu wraps as on a desk. Loaded in the
// head without defer, so that the menu is folded before the page is first drawn.
(function () {
  "use strict";
  document.documentElement.classList.add("menu-folds");
  function ready() {
    var button = document.querySelector("header.top .menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!button || !menu) {
      return;
    }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
