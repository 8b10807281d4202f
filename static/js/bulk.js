/* "Select all on this page" for lists with bulk actions. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-select-all]").forEach(function (box) {
      var name = box.dataset.selectAll;
      box.addEventListener("change", function () {
        document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (item) {
          item.checked = box.checked;
        });
      });
    });
    document.querySelectorAll("select[data-fill-answers]").forEach(function (chooser) {
      chooser.addEventListener("change", function () {
        if (!chooser.value) return;
        document.querySelectorAll("td.answer select").forEach(function (select) {
          if (!select.value) select.value = chooser.value;
        });
      });
    });
  });
})();
