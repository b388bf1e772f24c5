/* firstmark dynamic number insertion: fm.js loads this script where a page shows a number
   and hands it its state (firstmark.x). A lease stays in the tab only with analytics consent. */
(function (w, d) {
  var x = (w.firstmark || 0).x, o = new URL(d.currentScript.src).origin, N = {}, P = {}, R, ref, last;
  function land(t, o) { // click ids only with ads consent
    for (var key in t) if (x.l.indexOf(key) < 0 || x.k("ad_storage") || x.k("ad_user_data")) o[key] = t[key];
    return o;
  }
  function save() { // for this tab's next pages, with analytics consent only
    try { if (x.k("analytics_storage")) w.sessionStorage.setItem("fm_lease", JSON.stringify(N)); } catch (e) {}
  }
  function show(p) {
    var n = N[p];
    P[p].forEach(function (el) {
      var t = el.nodeType == 3, a = t ? el.parentNode : el;
      if (!a) return; // a text node replaced by its element's swap
      if (t) el.nodeValue = n.display;
      else if (el.hasAttribute("data-fm-phone")) el.textContent = n.display;
      if ((a = a.closest('a[href^="tel:"]'))) a.href = "tel:" + n.number;
    });
  }
  function lease(p) { // a number from pool p ("": the site's), or the heartbeat of its lease
    var b = land(x.t, land(x.c, { site: x.a("site"), pool: p, lease: (N[p] || 0).lease, tcf: x.f(), gpc: x.g && 1, vid: x.i(w.localStorage, "fm_vid"), ref: ref })), u = new URLSearchParams(), key;
    for (key in b) if (b[key]) u.set(key, b[key]);
    last = Date.now();
    w.fetch(o + "/n?" + u, { credentials: "omit" }).then(function (r) { return r.json(); }).then(function (j) {
      if (!j.number) return; // the page keeps its own number
      N[p] = j; show(p); save();
      if (j.lease && !R) setInterval(beat, R = j.renew_s * 1e3);
    })["catch"](function () {});
  }
  function beat() { // while the page is seen; a lease left hidden runs out
    if (d.visibilityState != "hidden" && Date.now() - last > R - 1e3) for (var p in P) if ((N[p] || 0).lease) lease(p);
  }
  if (!x || !w.fetch) return;
  var B = (x.a("phone") || "").replace(/\D/g, ""), p, t, walk = d.createTreeWalker(d.body, 4);
  function add(p, el) { (P[p] = P[p] || []).push(el); }
  function same(t) { t = t.replace(/\D/g, ""); return t.length > 6 && B.slice(-t.length) == t; }
  try { N = JSON.parse(x.n) || N; } catch (e) {} // as stored before this page's consent
  try { ref = new URL(d.referrer).hostname; } catch (e) {}
  x.h = save; // on every consent change, and now for one given before this script ran
  save();
  [].forEach.call(d.querySelectorAll("[data-fm-phone]"), function (el) { add(el.getAttribute("data-fm-phone"), el); });
  if (B) {
    while ((t = walk.nextNode())) if (/^\s*\+?[\d\s().-]{7,}$/.test(t.nodeValue) && same(t.nodeValue)) add("", t);
    [].forEach.call(d.querySelectorAll('a[href^="tel:"]'), function (a) { if (same(a.href)) add("", a); });
  }
  for (p in P) { if ((N[p] || 0).expires * 1e3 > Date.now()) show(p); lease(p); }
  d.addEventListener("visibilitychange", beat);
})(window, document);
