/* Abonent: the live unread badge. Listens on the customer's event stream (/ws/events/) and
   keeps every [data-unread-badge] current; lists marked [data-notices-live] refresh through
   htmx on the "notices:changed" event. Without this file the badge is right on each load. */
(function () {
  "use strict";

  var body = document.body;
  var path = body && body.getAttribute("data-events");
  if (!path || !("WebSocket" in window)) return;

  var socket = null;
  var retry = 1000;
  var pinger = null;
  var announcer = null;

  function announce(text) {
    if (!announcer) {
      announcer = document.createElement("div");
      announcer.className = "visually-hidden";
      announcer.setAttribute("role", "status");
      announcer.setAttribute("aria-live", "polite");
      body.appendChild(announcer);
    }
    announcer.textContent = text;
  }

  function setBadge(unread) {
    document.querySelectorAll("[data-unread-badge]").forEach(function (badge) {
      var count = badge.querySelector("[data-unread-count]") || badge;
      var before = count.textContent;
      count.textContent = String(unread);
      badge.hidden = unread < 1;
      if (unread > 0 && before !== String(unread)) {
        badge.classList.remove("nav__badge--bump");
        void badge.offsetWidth; // restart the animation
        badge.classList.add("nav__badge--bump");
      }
    });
    document.querySelectorAll("[data-unread-total]").forEach(function (el) {
      el.textContent = String(unread);
    });
    body.setAttribute("data-unread", String(unread));
  }

  function onEvent(data) {
    if (!data || data.kind !== "notifications") return;
    setBadge(Number(data.unread) || 0);
    if (data.latest && data.latest.title) announce("Новое оповещение: " + data.latest.title);
    body.dispatchEvent(new CustomEvent("notices:changed", { detail: data }));
  }

  function connect() {
    if (socket && socket.readyState <= 1) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      retry = 1000;
      body.setAttribute("data-events-live", "on");
      clearInterval(pinger);
      pinger = setInterval(function () {
        if (socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
      }, 25000);
    });
    socket.addEventListener("message", function (event) {
      try {
        onEvent(JSON.parse(event.data));
      } catch (e) {
        /* not ours */
      }
    });
    socket.addEventListener("close", function (event) {
      body.setAttribute("data-events-live", "off");
      clearInterval(pinger);
      if (event.code === 4401) return; // signed out: nothing to listen to
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") connect();
  });
  connect();
})();
