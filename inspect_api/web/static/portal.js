/* Portal behaviour without inline scripts (CSP: script-src 'self'). */
(function () {
  "use strict";
  // Forms with data-confirm ask before submitting.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute("data-confirm");
    // a form whose confirm depends on a chosen radio: data-confirm-<value of the checked "result">
    var chosen = form.querySelector("input[name=result]:checked");
    if (!msg && chosen) { msg = form.getAttribute("data-confirm-" + chosen.value); }
    if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
    var btn = form.querySelector("button[type=submit]");
    if (btn && form.getAttribute("data-once") !== null) { btn.disabled = true; }
  }, true);
  // Fields with data-maxlength show a counter as the user types ("12 / 10000"); past the limit the
  // counter turns red and says so. Nothing is cut: the server refuses what is too long, naming the field.
  document.querySelectorAll("[data-maxlength]").forEach(function (field) {
    var limit = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!limit) { return; }
    var counter = document.createElement("small");
    counter.className = "char-counter";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    function update() {
      var n = Array.from(field.value).length;
      var over = n > limit;
      counter.textContent = n + " / " + limit + (over ? "（超出 " + (n - limit) + " 字，无法提交）" : "");
      counter.classList.toggle("over", over);
      field.setCustomValidity(over ? "超出长度限制：最多 " + limit + " 字" : "");
    }
    field.addEventListener("input", update);
    update();
  });
  // Photo picker: show how many photos were chosen.
  document.querySelectorAll("input[type=file][data-count]").forEach(function (input) {
    var out = document.getElementById(input.getAttribute("data-count"));
    input.addEventListener("change", function () {
      if (out) { out.textContent = input.files.length ? String(input.files.length) : ""; }
    });
  });
})();
