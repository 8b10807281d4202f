/* The page's layout on every screen (issue 18). Loaded in <head> without defer, so the
   "js" class is set before the first paint (no flash of the open menu on a phone).

   1. The menu folds under 900 px behind a "Meny" button (aria-expanded); Escape closes it
      and gives focus back to the button. Without JavaScript the menu is always shown.
   2. Tables scroll sideways inside their card, never the page: every table in <main> sits
      in a .table-wrap (overflow-x: auto). A wrap that does scroll can be reached with Tab
      and is named after its caption or the nearest heading (role=region), so a keyboard
      user can scroll it (WCAG 2.1.1, axe's scrollable-region-focusable). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupMenu() {
    var button = document.querySelector(".menu-toggle");
    var bar = button && button.closest(".topbar");
    if (!bar) return;
    function show(open, focusButton) {
      bar.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (focusButton) button.focus();
    }
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    bar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("menu-open")) show(false, true);
    });
  }

  // The text a scrolling table is announced by: its caption, its own label, or the
  // heading closest before it.
  function nameOf(table) {
    if (table.getAttribute("aria-label")) return table.getAttribute("aria-label");
    if (table.caption && table.caption.textContent.trim()) return table.caption.textContent.trim();
    var headings = document.querySelectorAll("main h1, main h2, main h3, main legend");
    var name = "";
    for (var i = 0; i < headings.length; i++) {
      if (!(headings[i].compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING)) break;
      name = headings[i].textContent.trim();
    }
    return name.replace(/\s+/g, " ");
  }

  function wrapTables() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.parentElement.classList.contains("table-wrap")) return;
      if (table.closest(".table-wrap")) return; // a table inside a wrapped table's cell
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
    markScrolling();
  }

  // Only a wrap that scrolls is a Tab stop; the others stay out of the keyboard's way.
  function markScrolling() {
    document.querySelectorAll("main .table-wrap").forEach(function (wrap) {
      var table = wrap.querySelector("table");
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("scrolls", scrolls);
      if (scrolls && table) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        var name = nameOf(table);
        if (name) wrap.setAttribute("aria-label", name);
        wrap.dataset.madeScrollable = "1";
      } else if (wrap.dataset.madeScrollable) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        delete wrap.dataset.madeScrollable;
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(function () { pending = null; markScrolling(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupMenu();
    wrapTables();
    window.addEventListener("resize", later);
    window.addEventListener("load", later); // fonts and charts may change the widths
    document.addEventListener("toggle", later, true); // a <details> opened
    // Rows and tables htmx brings in later.
    document.body.addEventListener("htmx:afterSettle", wrapTables);
  });
})();
