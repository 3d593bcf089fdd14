/* Portal behaviour without inline scripts (CSP: script-src 'self'). */
(function () {
  "use strict";
  // Forms with data-confirm ask before submitting.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
    var btn = form.querySelector("button[type=submit]");
    if (btn && form.getAttribute("data-once") !== null) { btn.disabled = true; }
  }, true);
  // Photo picker: show how many photos were chosen.
  document.querySelectorAll("input[type=file][data-count]").forEach(function (input) {
    var out = document.getElementById(input.getAttribute("data-count"));
    input.addEventListener("change", function () {
      if (out) { out.textContent = input.files.length ? String(input.files.length) : ""; }
    });
  });
})();
