// Live overview: the server pushes the re-rendered body over server-sent events whenever it
// changes; when the stream breaks, fall back to fetching it every few seconds.
(function () {
  "use strict";
  var box = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!box) { return; }
  var url = box.getAttribute("data-stream");
  var fallback = null;
  function show(html) { box.innerHTML = html; box.setAttribute("data-updated", String(Date.now())); }
  function poll() {
    fetch(url.replace("/stream", "/fragment"), {credentials: "same-origin"})
      .then(function (r) { if (r.ok) { return r.text(); } throw new Error(String(r.status)); })
      .then(show).catch(function () {});
  }
  if (window.EventSource) {
    var source = new EventSource(url);
    source.addEventListener("body", function (e) { show(e.data); });
    source.onopen = function () {
      if (fallback) { clearInterval(fallback); fallback = null; }
      if (status) { status.setAttribute("data-mode", "sse"); }
    };
    source.onerror = function () {
      if (!fallback) { fallback = setInterval(poll, 3000); }
      if (status) { status.setAttribute("data-mode", "poll"); }
    };
  } else {
    fallback = setInterval(poll, 3000);
  }
})();
