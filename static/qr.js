// firstmark dashboard: the QR designer's live preview. No framework. The preview image, the
// download links and the print check follow the form as you type; the server renders and
// checks (the same code as the API), through routes that need the dashboard session only.
(function () {
  "use strict";
  var form = document.querySelector(".qr-designer");
  if (!form) return;
  var base = form.getAttribute("data-qr-base");
  var img = document.getElementById("qr-preview");
  var box = document.getElementById("qr-check");
  var fields = Array.prototype.slice.call(form.querySelectorAll("[data-qr-field]"));
  var defaults = {format: "svg", scale: "10", border: "4", dark: "#000000", light: "#ffffff", ec: "M", logo_size: "20"};

  function options() {
    var out = new URLSearchParams();
    fields.forEach(function (input) {
      var value = input.value.trim();
      if (value && value !== defaults[input.name]) out.set(input.name, value);
    });
    return out;
  }

  function withFormat(params, format, extra) {
    var q = new URLSearchParams(params);
    q.set("format", format);
    if (extra) q.set(extra[0], extra[1]);
    return q.toString();
  }

  function showErrors(field, message) {
    fields.forEach(function (input) {
      var slot = form.querySelector('[data-error-for="' + input.name + '"]');
      var bad = input.name === field;
      if (slot) slot.textContent = bad ? message : "";
      if (bad) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      input.closest(".field").classList.toggle("has-error", bad);
    });
  }

  function showCheck(body) {
    box.textContent = "";
    if (body.ok) {
      var p = document.createElement("p");
      p.className = "check-ok";
      p.setAttribute("data-check", "ok");
      p.textContent = "Print check passed (" + body.version + ", " + body.modules + " modules).";
      box.appendChild(p);
      return;
    }
    var list = document.createElement("ul");
    list.className = "check-warnings";
    body.checks.forEach(function (c) {
      if (c.ok) return;
      var li = document.createElement("li");
      li.setAttribute("data-check", c.name);
      li.textContent = c.message;
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  var seq = 0;
  function update() {
    var params = options();
    var mine = ++seq;
    fetch(base + "/qr/check?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (answer) {
        if (mine !== seq) return;  // a newer change is on its way
        if (!answer[0]) {
          var error = answer[1].error || {};
          showErrors(error.field, error.message || "That value is refused.");
          return;
        }
        showErrors(null, "");
        showCheck(answer[1]);
        params.delete("format");
        img.src = base + "/qr?" + withFormat(params, "png");
        document.querySelectorAll(".downloads [data-format]").forEach(function (a) {
          a.href = base + "/qr?" + withFormat(params, a.getAttribute("data-format"), ["download", "1"]);
        });
        var zip = document.getElementById("placements-zip");
        if (zip) zip.href = base + "/placements.zip?" + options().toString();
        // The logo upload keeps the designer's options.
        document.querySelectorAll(".logo-form [data-qr-copy]").forEach(function (input) { input.remove(); });
        var logoForm = document.querySelector(".logo-form");
        options().forEach(function (value, name) {
          if (name === "logo") return;
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = name; hidden.value = value;
          hidden.setAttribute("data-qr-copy", name);
          logoForm.appendChild(hidden);
        });
      })
      .catch(function () { /* the preview is a help; Apply still works */ });
  }

  var timer = null;
  fields.forEach(function (input) {
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
    input.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(update, 50); });
  });
})();
