// fengqiao console: small enhancements only. Every page works without this script.
(function () {
  "use strict";

  // Buttons that only matter without JavaScript (the county form's "show towns", filter submits).
  function hideNoJs() {
    document.querySelectorAll("[data-nojs]").forEach(function (el) { el.hidden = true; });
  }

  // Selects that apply their form as soon as they change.
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) { select.form.submit(); }
      });
    });
  }

  // County → town: the town list follows the chosen county, read from the public region API.
  function countyTowns() {
    document.querySelectorAll("select[data-towns]").forEach(function (county) {
      var town = document.getElementById(county.getAttribute("data-towns"));
      if (!town) { return; }
      county.addEventListener("change", function () {
        var code = county.value;
        fetch("/api/v1/regions/" + encodeURIComponent(code), { headers: { "Accept": "application/json" } })
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
          .then(function (region) {
            while (town.options.length > 1) { town.remove(1); }
            var whole = (county.getAttribute("data-whole") || "{county}").replace("{county}", region.name);
            town.add(new Option(whole, region.code));
            region.children.filter(function (c) { return !c.retired; }).forEach(function (c) {
              town.add(new Option(c.name, c.code));
            });
            town.value = "";
          })
          .catch(function () { county.form.submit(); });
      });
    });
  }

  // Buttons that ask first (disabling an account).
  function confirmations() {
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  // A form is sent once: its submit button is disabled while the page loads the answer.
  function submitOnce() {
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          window.setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    hideNoJs();
    autosubmit();
    countyTowns();
    confirmations();
    submitOnce();
  });
})();
