/* The readiness report page (rollout/report_views.py): changed answers are saved in the
   background, one request at a time with the report's version, and each group shows
   "Saving…" / "Saved" or what went wrong; a closed group is loaded when opened; a group's
   pages change without a reload; after a refused submission the first marked row gets
   the focus. Without JavaScript every group is a normal form and every link a page. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("report-groups");
    if (!root) return;
    var saveUrl = root.dataset.saveUrl;
    var text = {
      saving: root.dataset.textSaving,
      saved: root.dataset.textSaved,
      unsaved: root.dataset.textUnsaved,
      failed: root.dataset.textFailed,
      offline: root.dataset.textOffline,
      reload: root.dataset.textReload,
      progress: root.dataset.textProgress,
    };
    var version = root.dataset.version;
    var pending = {}; // group key -> {field name: value}
    var timers = {};
    var queue = Promise.resolve();
    var inFlight = 0;
    var blocked = ""; // a refusal that stops the submission (a version conflict)
    var failed = {}; // group key -> why its last save failed (tried again before submitting)

    function csrf() {
      var input = document.querySelector("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    }

    function group(key) {
      return document.getElementById("gruppe-" + key);
    }

    function showState(key, kind, message) {
      var details = group(key);
      var el = details && details.querySelector("[data-save-state]");
      if (!el) return;
      el.className = "save-state small" + (kind ? " " + kind : "");
      el.textContent = message;
    }

    function showError(key, message, reload) {
      var body = group(key).querySelector(".group-body");
      var alert = body.querySelector(".save-error");
      if (!alert) {
        alert = document.createElement("div");
        alert.className = "alert error save-error";
        alert.setAttribute("role", "alert");
        body.insertBefore(alert, body.firstChild);
      }
      alert.textContent = message + " ";
      if (reload) {
        var link = document.createElement("a");
        link.href = reload;
        link.textContent = text.reload;
        alert.appendChild(link);
      }
    }

    function setVersion(value) {
      version = String(value);
      root.dataset.version = version;
      document
        .querySelectorAll("form.report-group-form input[name=version], #report-submit input[name=version]")
        .forEach(function (input) { input.value = version; });
    }

    function showProgress(groups) {
      var answered = 0, ready = 0, total = 0;
      Object.keys(groups || {}).forEach(function (key) {
        var p = groups[key];
        answered += p.answered; ready += p.ready; total += p.total;
        var details = group(key);
        if (!details) return;
        details.querySelector("[data-progress]").textContent = text.progress
          .replace("{answered}", p.answered).replace("{total}", p.total).replace("{ready}", p.ready);
        details.querySelector("summary progress").value = p.answered;
      });
      var head = document.querySelector("[data-report-progress]");
      if (head && total) {
        head.textContent = text.progress
          .replace("{answered}", answered).replace("{total}", total).replace("{ready}", ready);
        head.parentNode.querySelector("progress").value = answered;
      }
    }

    function unmark(values) {
      Object.keys(values).forEach(function (name) {
        var row = document.getElementById(name.split("_")[0]);
        if (!row || !row.classList.contains("invalid")) return;
        row.classList.remove("invalid");
        row.querySelectorAll("[aria-invalid]").forEach(function (f) {
          f.removeAttribute("aria-invalid");
          f.removeAttribute("aria-describedby");
        });
        var message = row.querySelector(".errorlist");
        if (message) message.remove();
      });
    }

    function save(key) {
      clearTimeout(timers[key]);
      var values = pending[key];
      if (!values) return queue;
      delete pending[key];
      inFlight++;
      showState(key, "", text.saving);
      queue = queue.then(function () {
        var body = new URLSearchParams();
        body.append("version", version);
        Object.keys(values).forEach(function (name) { body.append(name, values[name]); });
        return fetch(saveUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
        })
          .then(function (response) {
            return response.json().then(function (data) {
              if (response.ok) {
                setVersion(data.version);
                showProgress(data.groups);
                unmark(values);
                var old = group(key).querySelector(".save-error");
                if (old) old.remove();
                delete failed[key];
                showState(key, "saved", text.saved);
                return;
              }
              if (response.status === 409) blocked = data.error;
              else pending[key] = Object.assign(values, pending[key] || {});
              failed[key] = data.error;
              showState(key, "failed", text.failed);
              showError(key, data.error, response.status === 409 ? data.reload : "");
            });
          })
          .catch(function () {
            pending[key] = Object.assign(values, pending[key] || {});
            failed[key] = text.offline;
            showState(key, "failed", text.failed);
            showError(key, text.offline, "");
          })
          .finally(function () { inFlight--; });
      });
      return queue;
    }

    function saveAll() {
      Object.keys(pending).forEach(save);
      return queue;
    }

    function changed(event) {
      var field = event.target;
      var form = field.closest && field.closest("form.report-group-form");
      if (!form || !saveUrl || !/^a\d+_/.test(field.name || "")) return;
      var key = form.dataset.group;
      (pending[key] = pending[key] || {})[field.name] = field.value;
      showState(key, "", text.unsaved);
      clearTimeout(timers[key]);
      timers[key] = setTimeout(function () { save(key); }, event.type === "input" ? 700 : 250);
    }
    document.addEventListener("change", changed);
    document.addEventListener("input", changed);

    // The group's own button (the form without JavaScript): save it now, in the background.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!saveUrl || !form.classList.contains("report-group-form")) return;
      event.preventDefault();
      var key = form.dataset.group;
      form.querySelectorAll("[name^=a]").forEach(function (field) {
        if (/^a\d+_/.test(field.name)) (pending[key] = pending[key] || {})[field.name] = field.value;
      });
      save(key);
    });

    // Submitting waits for the answers still being saved, with the version they leave.
    var submitForm = document.getElementById("report-submit");
    var submitting = false;
    if (submitForm) {
      submitForm.addEventListener("submit", function (event) {
        if (submitting) return;
        event.preventDefault();
        var button = event.submitter;
        saveAll().then(function () {
          var refusal = blocked || Object.keys(failed).map(function (k) { return failed[k]; })[0];
          if (refusal) {
            window.alert(refusal);
            return;
          }
          submitting = true;
          submitForm.querySelector("input[name=version]").value = version;
          // Not in this task: while the first submit event is being dispatched (a promise
          // already settled resolves then), the browser ignores another submission.
          setTimeout(function () { submitForm.requestSubmit(button); }, 0);
        });
      });
    }

    window.addEventListener("beforeunload", function (event) {
      if (!submitting && (inFlight || Object.keys(pending).length)) event.preventDefault();
    });

    function load(details, url) {
      var body = details.querySelector(".group-body");
      body.setAttribute("aria-busy", "true");
      return fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          body.innerHTML = html;
          delete details.dataset.fragmentUrl;
          setVersion(version); // the answers saved meanwhile from this page
        })
        .catch(function () { showState(details.dataset.group, "failed", text.offline); })
        .finally(function () { body.removeAttribute("aria-busy"); });
    }

    // A closed group is loaded the first time it is opened.
    document.addEventListener("toggle", function (event) {
      var details = event.target;
      if (details.classList && details.classList.contains("report-group") && details.open && details.dataset.fragmentUrl) {
        load(details, details.dataset.fragmentUrl);
      }
    }, true);

    // Another page of a group: its unsaved answers first, then the page in place.
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-group-page]");
      if (!link) return;
      event.preventDefault();
      var details = link.closest("details.report-group");
      var url = new URL(link.href);
      url.hash = "";
      url.searchParams.set("del", "1");
      save(details.dataset.group).then(function () {
        return load(details, url.toString());
      }).then(function () { details.scrollIntoView({ block: "start" }); });
    });

    // "Set every unanswered item in the open groups to …": saved like any other change.
    var fill = document.querySelector("select[data-fill-unanswered]");
    if (fill) {
      fill.addEventListener("change", function () {
        if (!fill.value) return;
        document.querySelectorAll("details.report-group[open] form.report-group-form select[name$=_answer]").forEach(function (select) {
          if (select.value) return;
          select.value = fill.value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        });
        fill.value = "";
      });
    }

    // After a refused submission: the first marked row, in view and focused.
    if (root.dataset.firstProblem) {
      var row = document.getElementById("a" + root.dataset.firstProblem);
      if (row) {
        var field = row.querySelector("[aria-invalid=true]") || row.querySelector("select, input");
        row.scrollIntoView({ block: "center" });
        if (field) field.focus({ preventScroll: true });
      }
    }
  });
})();
