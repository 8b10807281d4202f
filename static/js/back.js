/* "Go back" on the error pages: the previous page in the browser's history, or the
   start page (the link's own address) when there is none. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-history-back]");
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
