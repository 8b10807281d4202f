/* Lists with bulk actions: "select all on this page", "select all that match the filter"
   (a checkbox the server reads: it evaluates the filter again, no ids are sent) and the
   count of what is selected, kept up to date while rows are ticked. */
(function () {
  "use strict";

  function setUpSelection(bar) {
    var form = bar.closest("form");
    var rows = function () {
      return form.querySelectorAll('input[type=checkbox][name="organisations"]');
    };
    var everything = bar.querySelector("input[data-select-everything]");
    var count = bar.querySelector("[data-selected-count]");
    var direct = bar.querySelector("[data-all-or-nothing]");

    function update() {
      var n = 0;
      rows().forEach(function (item) { if (item.checked) n += 1; });
      if (everything && everything.checked) n = Number(everything.dataset.total);
      if (count) count.textContent = n.toLocaleString("nb-NO");
      // "Change status" saves the ticked rows directly; everything that matches the
      // filter goes through the preview.
      if (direct) direct.disabled = Boolean(everything && everything.checked);
    }

    if (everything) {
      everything.addEventListener("change", function () {
        if (everything.checked) {
          rows().forEach(function (item) { item.checked = true; });
          form.querySelectorAll("input[data-select-all]").forEach(function (box) {
            box.checked = true;
          });
        }
        update();
      });
    }
    form.addEventListener("change", function (event) {
      var target = event.target;
      var row = target.name === "organisations" || "selectAll" in target.dataset;
      if (row && !target.checked && everything) {
        everything.checked = false; // one row left out: no longer everything
      }
      if (target !== everything) update();
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-select-all]").forEach(function (box) {
      var name = box.dataset.selectAll;
      box.addEventListener("change", function () {
        document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (item) {
          item.checked = box.checked;
        });
      });
    });
    document.querySelectorAll("[data-bulk]").forEach(setUpSelection);
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
