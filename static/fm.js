/* firstmark: consent-gated, sets no cookies (docs/web.md) */
(function (w, d) {
  var s = d.currentScript, n = w.navigator, L = w.location, C = {}, T, tcf, at, prev, q, k, x;
  var gpc = n.globalPrivacyControl === true;
  var IDS = "gclid gbraid wbraid fbclid ttclid li_fat_id msclkid ScCid rdt_cid epik".split(" ");
  function attr(name) { return s ? s.getAttribute("data-" + name) : null; }
  var site = attr("site"), param = attr("param") || "fm_click";
  var o = s ? new URL(s.src, L.href).origin : "", api = attr("api") || o + "/e";
  var off = !site || n.webdriver || (/^(localhost|127\.|\[::1\])/.test(L.hostname) && attr("local") == null);
  function ok(name) { return C[name] === "granted" && !gpc; }
  function rnd() {
    var a = new Uint32Array(4), out = "", i;
    w.crypto.getRandomValues(a);
    for (i = 0; i < 4; i++) out += a[i].toString(36);
    return out;
  }
  function id(store, key) {
    if (!ok("analytics_storage")) return;
    try {
      var v = store.getItem(key);
      if (!v) store.setItem(key, v = rnd());
      return v;
    } catch (e) {}
  }
  function keep(t) {
    try { if (t) w.sessionStorage.setItem("fm_land", JSON.stringify(t)); else w.sessionStorage.removeItem("fm_land"); } catch (e) {}
  }
  function forget() {
    try { w.localStorage.removeItem("fm_vid"); w.sessionStorage.removeItem("fm_sid"); w.sessionStorage.removeItem("fm_lease"); keep(); } catch (e) {}
  }
  function landing() {
    var p = new URLSearchParams(L.search), o = {}, found;
    "utm_source utm_medium utm_campaign utm_term utm_content utm_id".split(" ").concat(param, IDS)
      .forEach(function (key) { var v = p.get(key); if (v) { o[key] = v.slice(0, 500); found = 1; } });
    return found && o;
  }
  function ga() { // read under analytics consent
    var c = d.cookie, m = /_ga=GA\d\.\d\.(\d+\.\d+)/.exec(c), g = /_ga_\w+=GS\d\.\d\.s?(\d+)/.exec(c);
    if (m) return { client_id: m[1], session_id: g && g[1] };
  }
  function send(type, name, extra) {
    if (off) return;
    try {
      var b = { site: site, type: type, url: L.href, consent: C, gpc: gpc }, o = {}, key;
      if (name) b.name = name;
      if (tcf) b.tcf = tcf;
      if (type == "pageview") b.referrer = prev || d.referrer;
      for (key in extra || {}) {
        if (/^(value|currency|event_id)$/.test(key)) b[key] = extra[key];
        else (b.props = b.props || {})[key] = extra[key];
      }
      if (type == "conversion" && !b.event_id) b.event_id = rnd();
      var vid = id(w.localStorage, "fm_vid");
      if (vid) { b.vid = vid; b.sid = id(w.sessionStorage, "fm_sid"); if (key = ga()) b.ga = key; }
      if (T) {
        for (key in T) o[key] = IDS.indexOf(key) < 0 || ok("ad_storage") || ok("ad_user_data") ? T[key] : "1";
        b.landing = o;
        if (vid) { T = 0; keep(); }
      }
      var body = JSON.stringify(b);
      if (w.fetch) w.fetch(api, { method: "POST", body: body, keepalive: true, credentials: "omit" })["catch"](function () {});
      else if (n.sendBeacon) n.sendBeacon(api, body);
    } catch (e) {}
  }
  function dni() {
    if (attr("phone") || d.querySelector("[data-fm-phone]")) d.head.appendChild(d.createElement("script")).src = o + "/fm-phone.js";
  }
  function page() {
    var here = L.href.split("#")[0];
    if (here == at) return;
    prev = at; at = here;
    send("pageview");
  }
  function firstmark(cmd, a, b) {
    try {
      if (cmd == "consent") {
        for (k in a || {}) { if (k == "tcf_string") tcf = a[k]; else if (/_storage$|^ad_/.test(k)) C[k] = a[k]; }
        if (!ok("analytics_storage")) forget();
        else if (T) keep(T);
        if (x.h) x.h();
      } else if (cmd == "event" || cmd == "conversion") send(cmd, a, b);
      else if (cmd == "pageview") { at = 0; page(); }
    } catch (e) {}
  }
  try {
    q = (w.firstmark && w.firstmark.q) || [];
    w.firstmark = firstmark;
    T = landing();
    if (!T) try { T = JSON.parse(w.sessionStorage.getItem("fm_land")); } catch (e) {}
    if (gpc) forget();
    x = firstmark.x = { a: attr, c: C, t: T, l: IDS, g: gpc, k: ok, i: id, f: function () { return tcf; } }; // state for fm-phone.js
    try { x.n = w.sessionStorage.getItem("fm_lease"); } catch (e) {}
    if (w.__tcfapi) w.__tcfapi("addEventListener", 2, function (t, good) { if (good && t && t.tcString) tcf = t.tcString; });
    q.forEach(function (c) { if (c[0] == "consent") firstmark.apply(w, c); });
    if (!off) d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", dni) : dni();
    if (attr("auto") != "false") {
      page();
      var h = w.history, push = h.pushState;
      h.pushState = function () { var r = push.apply(h, arguments); try { page(); } catch (e) {} return r; };
      w.addEventListener("popstate", function () { try { page(); } catch (e) {} });
    }
    q.forEach(function (c) { if (c[0] != "consent") firstmark.apply(w, c); });
  } catch (e) {}
})(window, document);
