// Page behaviours that templates ask for with data- attributes. The Content-Security-Policy
// runs scripts from our own origin only (no inline script, no eval), so no template carries
// code: it names a behaviour and this file does it.
(function () {
  "use strict";

  // <fieldset data-show-when="response=upstream,foreign_upstream"> is shown while the form's
  // control named "response" has one of those values; "agency=" while that control is empty;
  // a bare name ("ndo") while that box is ticked (or the control has any value).
  function controlValue(form, name) {
    for (const el of form.querySelectorAll("[name]")) {
      if (el.name !== name) continue;
      if (el.type === "radio") {
        if (el.checked) return el.value;
        continue;
      }
      if (el.type === "checkbox") return el.checked ? el.value || "on" : "";
      return el.value;
    }
    return "";
  }

  function shown(form, rule) {
    const eq = rule.indexOf("=");
    if (eq < 0) return controlValue(form, rule) !== "";
    return rule.slice(eq + 1).split(",").includes(controlValue(form, rule.slice(0, eq)));
  }

  function refresh(form) {
    form.querySelectorAll("[data-show-when]").forEach((el) => {
      el.hidden = !shown(form, el.dataset.showWhen);
    });
  }

  // <span data-due="ISO time">: time left until a deadline, as "3h 05m" or "overdue 1h 10m",
  // red once overdue and amber under four hours; the server's text shows without script.
  function tick(el) {
    const ms = new Date(el.dataset.due) - new Date();
    const seconds = Math.abs(Math.round(ms / 1000));
    el.textContent = (ms < 0 ? "overdue " : "") + Math.floor(seconds / 3600) + "h " + String(Math.floor((seconds % 3600) / 60)).padStart(2, "0") + "m";
    el.classList.add("badge");
    el.classList.toggle("danger", ms < 0);
    el.classList.toggle("warn", ms >= 0 && ms < 4 * 3600e3);
  }

  function start() {
    document.querySelectorAll("form").forEach((form) => {
      if (!form.querySelector("[data-show-when]")) return;
      refresh(form);
      form.addEventListener("change", () => refresh(form));
    });
    const clocks = document.querySelectorAll("[data-due]");
    clocks.forEach(tick);
    if (clocks.length) setInterval(() => clocks.forEach(tick), 30000);
  }

  // <form data-confirm="Delete this?">: asks before submitting.
  document.addEventListener("submit", (ev) => {
    const message = ev.target.dataset ? ev.target.dataset.confirm : undefined;
    if (message && !window.confirm(message)) ev.preventDefault();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
