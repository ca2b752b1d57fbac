// Live updates of the status page, by Server-Sent Events from "events":
// each message is the page's live part, rendered by the server as the
// page itself is. The URL is relative, so that the page works under any
// path prefix and behind any proxy. Without this script the page reloads
// itself (the <noscript> refresh); the server never needs it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var state = document.getElementById("live-state");
  var announce = document.getElementById("announce");
  if (!live || !state) {
    return;
  }
  function show(s, text) {
    state.setAttribute("data-state", s);
    state.textContent = text;
  }
  if (!window.EventSource) {
    window.setTimeout(function () { window.location.reload(); }, 10000);
    return;
  }
  var summary = "";
  var root = document.getElementById("state");
  if (root) {
    summary = root.getAttribute("data-summary");
  }
  var es = new EventSource("events");
  es.onopen = function () {
    show("live", "Live");
  };
  es.onmessage = function (e) {
    live.innerHTML = e.data;
    var st = document.getElementById("state");
    if (st) {
      document.title = st.getAttribute("data-title");
      var now = st.getAttribute("data-summary");
      if (announce && now !== summary) {
        announce.textContent = now;
      }
      summary = now;
    }
    show("live", "Live, updated " + new Date().toLocaleTimeString());
  };
  es.onerror = function () {
    if (es.readyState === EventSource.CLOSED) {
      show("stopped", "Live updates stopped: reload to resume");
    } else {
      show("reconnecting", "Reconnecting…");
    }
  };
})();
