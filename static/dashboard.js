// firstmark dashboard: the UTM builder's live preview and taxonomy notes, the question before
// a destructive action, copy buttons (for short URLs and for fields), the report pages' date
// range carried along the menu, and a site's "first event" check. No framework; every page
// works without this file.
//
// The UTM preview follows the server's rules (domain/utm.py normalise_utm, domain/urls.py
// with_params): values trimmed, lower case, inner spaces as "-"; a link's UTM tags replace
// parameters of the same name in the destination, whose other parameters keep their bytes.
(function () {
  "use strict";
  var form = document.querySelector(".link-form");
  if (!form) return;
  var output = document.getElementById("final-url");
  var destination = form.querySelector('[data-utm="destination"]');
  var fields = Array.prototype.slice.call(form.querySelectorAll('[data-utm^="utm_"]'));

  function normalise(value) {
    return value.trim().split(/\s+/).filter(Boolean).join("-").toLowerCase();
  }

  function encode(value) {
    // Python's quote(safe=""): encodeURIComponent plus the five characters it leaves alone.
    return encodeURIComponent(value).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  function decodeName(piece) {
    var name = piece.split("=")[0].replace(/\+/g, " ");
    try { return decodeURIComponent(name); } catch (e) { return name; }
  }

  function finalUrl() {
    var url = destination.value.trim();
    if (!url) return "";
    var params = [];
    fields.forEach(function (input) {
      var value = normalise(input.value);
      if (value) params.push([input.name, value]);
    });
    if (!params.length) return url;
    var hash = url.indexOf("#");
    var fragment = hash >= 0 ? url.slice(hash) : "";
    var base = hash >= 0 ? url.slice(0, hash) : url;
    var q = base.indexOf("?");
    var path = q >= 0 ? base.slice(0, q) : base;
    var query = q >= 0 ? base.slice(q + 1) : "";
    var names = params.map(function (p) { return p[0]; });
    var kept = query.split("&").filter(function (piece) {
      return piece && names.indexOf(decodeName(piece)) < 0;
    });
    params.forEach(function (p) { kept.push(p[0] + "=" + encode(p[1])); });
    return path + "?" + kept.join("&") + fragment;
  }

  function render() { output.textContent = finalUrl(); }

  // Taxonomy notes while typing: the same check the server runs on save.
  var timer = null;
  function check() {
    var query = new URLSearchParams();
    fields.forEach(function (input) { if (input.value.trim()) query.set(input.name, input.value); });
    fetch("/dashboard/links/check?" + query.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        var byField = {};
        body.warnings.forEach(function (w) { (byField[w.field] = byField[w.field] || []).push(w.message); });
        fields.forEach(function (input) {
          var slot = form.querySelector('[data-warning-for="' + input.name + '"]');
          if (!slot) return;
          slot.textContent = "";
          var messages = byField[input.name] || [];
          messages.forEach(function (message) {
            var p = document.createElement("p");
            p.textContent = message;
            slot.appendChild(p);
          });
          // Tie the notes to the field for screen readers only while there are some.
          var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
            return id && id !== slot.id;
          });
          if (messages.length) ids.push(slot.id);
          if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
          else input.removeAttribute("aria-describedby");
        });
      })
      .catch(function () { /* notes are a help, never a blocker */ });
  }

  [destination].concat(fields).forEach(function (input) {
    input.addEventListener("input", function () {
      render();
      if (input !== destination) {
        clearTimeout(timer);
        timer = setTimeout(check, 300);
      }
    });
  });
  render();

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();

// Copy a short URL. The buttons are hidden in the page and shown here: without JavaScript the
// URL is there to select.
(function () {
  "use strict";
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-copy]"));
  if (!buttons.length) return;
  var status = document.createElement("p");
  status.className = "sr-only";
  status.setAttribute("role", "status");
  document.body.appendChild(status);

  function fallback(text) {
    // Browsers without the async clipboard (or an http:// page not on this machine).
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallback(text); });
    }
    return fallback(text);
  }

  buttons.forEach(function (button) {
    var label = button.textContent;
    var timer = null;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      copy(text).then(
        function () { button.textContent = "Copied"; status.textContent = "Copied " + text; },
        function () { button.textContent = "Select and copy"; status.textContent = "Could not copy; select the URL and copy it."; }
      ).then(function () {
        clearTimeout(timer);
        timer = setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
})();

// A form marked data-confirm asks first. Without JavaScript the server answers the same POST
// with a confirm page; here the browser's dialog asks, and a yes sends the form confirmed.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (form.querySelector('input[name="confirm"]')) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var yes = document.createElement("input");
    yes.type = "hidden";
    yes.name = "confirm";
    yes.value = "yes";
    form.appendChild(yes);
  });
})();

// Copy buttons for fields: hidden without JavaScript (the text stays selectable); a click
// copies the field named by data-copy-field and says so next to the button.
(function () {
  "use strict";
  function selectAll(field) {
    field.focus();
    field.select();
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy-field]"), function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-field"));
    var state = document.getElementById(button.getAttribute("data-copy-field") + "-state");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      function done(ok) {
        if (state) state.textContent = ok ? "Copied." : "Selected: press Ctrl+C (or ⌘C) to copy.";
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () {
          selectAll(field);
          done(false);
        });
      } else {
        selectAll(field);
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
    });
  });
})();

// The report pages read their range from ?from=&to=; the menu's links to the other report
// pages get the same range, so it stays put while moving between them.
(function () {
  "use strict";
  if (!document.querySelector("form.range")) return;
  var here = new URLSearchParams(window.location.search);
  var from = here.get("from");
  var to = here.get("to");
  if (!from || !to) return;
  var pages = ["/dashboard", "/dashboard/web", "/dashboard/campaigns", "/dashboard/channels",
    "/dashboard/reports", "/dashboard/attribution", "/dashboard/costs"];
  Array.prototype.slice.call(document.querySelectorAll(".nav a")).forEach(function (a) {
    var url = new URL(a.getAttribute("href"), window.location.href);
    if (pages.indexOf(url.pathname) < 0) return;
    url.searchParams.set("from", from);
    url.searchParams.set("to", to);
    a.setAttribute("href", url.pathname + url.search);
  });
})();

// A new site waits for its first event: ask the server every few seconds until one arrived.
(function () {
  "use strict";
  var waiting = Array.prototype.slice.call(document.querySelectorAll("[data-status-url]"));
  if (!waiting.length) return;
  function poll() {
    waiting = waiting.filter(function (box) {
      return !box.classList.contains("received");
    });
    if (!waiting.length) return;
    waiting.forEach(function (box) {
      fetch(box.getAttribute("data-status-url"), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || !body.received) return;
          box.classList.add("received");
          box.textContent = body.message;
        })
        .catch(function () { /* the reload link still works */ });
    });
    setTimeout(poll, 3000);
  }
  setTimeout(poll, 3000);
})();
