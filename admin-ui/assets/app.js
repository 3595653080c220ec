// scimgate admin UI and setup portal: the little script the pages use (no inline
// script: the CSP allows only this file). Everything works without it except live
// refresh and copy buttons.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="element-id">.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      var text = el.value !== undefined && el.value !== "" ? el.value : el.textContent;
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.trim()).then(done, function () {});
      } else if (el.select) {
        el.select(); document.execCommand("copy"); done();
      }
    });
  });
  // Live fragments: <div data-poll="/url"> is replaced by the server's HTML every 2 s
  // (server-rendered and escaped; one cheap query per page per poll). With data-wait, a
  // long poll instead: the server answers as soon as the fragment differs from the
  // version shown (its ETag), or after 25 s; one request a second at most.
  document.querySelectorAll("[data-poll][data-wait]").forEach(function (el) {
    var url = el.getAttribute("data-poll");
    var seen = null;
    var run = function () {
      if (document.hidden) { setTimeout(run, 1000); return; }
      var started = Date.now();
      var u = seen === null ? url
        : url + (url.indexOf("?") < 0 ? "?" : "&") + "wait=25&seen=" + encodeURIComponent(seen);
      fetch(u, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (!r.ok) throw new Error("status " + r.status);
          var v = r.headers.get("ETag");
          return r.text().then(function (html) {
            if (v !== seen) el.innerHTML = html;
            seen = v;
          });
        })
        .then(function () { setTimeout(run, Math.max(0, 1000 - (Date.now() - started))); },
              function () { setTimeout(run, 2000); });
    };
    run();
  });
  document.querySelectorAll("[data-poll]:not([data-wait])").forEach(function (el) {
    var url = el.getAttribute("data-poll");
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) el.innerHTML = html; })
        .catch(function () {})
        .then(function () { busy = false; });
    }, 2000);
  });
  // Typed confirmation: <input data-confirm="expected" data-confirm-button="id">.
  document.querySelectorAll("input[data-confirm]").forEach(function (input) {
    var button = document.getElementById(input.getAttribute("data-confirm-button"));
    if (!button) return;
    var check = function () { button.disabled = input.value !== input.getAttribute("data-confirm"); };
    input.addEventListener("input", check);
    check();
  });
})();
