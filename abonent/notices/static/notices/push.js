/* Abonent: turn Web Push on or off for this browser (the installed app). The service worker
   (/sw.js) shows the messages; the server keeps one subscription per browser. */
(function () {
  "use strict";

  var box = document.querySelector("[data-push]");
  if (!box) return;
  var key = box.getAttribute("data-push-key");
  var api = box.getAttribute("data-push-api");
  var on = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");
  var status = box.querySelector("[data-push-status]");
  var unsupported = box.querySelector("[data-push-unsupported]");
  var STORE = "abonent.push.id";

  var supported = key && window.isSecureContext && "serviceWorker" in navigator &&
    "PushManager" in window && "Notification" in window;
  if (!supported) {
    unsupported.hidden = false;
    return;
  }

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function say(text) { status.textContent = text; }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function show(subscribed) {
    on.hidden = subscribed;
    off.hidden = !subscribed;
  }

  function registration() {
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg || navigator.serviceWorker.register(document.body.getAttribute("data-sw"), { scope: "/" });
    }).then(function () { return navigator.serviceWorker.ready; });
  }

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      if (response.status === 204) return {};
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.message || String(response.status));
        return data;
      });
    });
  }

  on.addEventListener("click", function () {
    on.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("Уведомления запрещены в настройках браузера. Разрешите их для этого сайта и попробуйте снова.");
      }
      return registration();
    }).then(function (reg) {
      return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    }).then(function (subscription) {
      return send("POST", api, subscription.toJSON());
    }).then(function (data) {
      window.localStorage.setItem(STORE, String(data.id));
      say("Push включены на этом устройстве.");
      show(true);
    }).catch(function (error) {
      say(error && error.message ? error.message : "Не удалось включить push. Попробуйте ещё раз.");
    }).then(function () { on.disabled = false; });
  });

  off.addEventListener("click", function () {
    off.disabled = true;
    registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      return subscription ? subscription.unsubscribe() : true;
    }).then(function () {
      var id = window.localStorage.getItem(STORE);
      window.localStorage.removeItem(STORE);
      return id ? send("DELETE", api + "/" + encodeURIComponent(id)).catch(function () { return {}; }) : {};
    }).then(function () {
      say("Push на этом устройстве выключены.");
      show(false);
    }).catch(function () {
      say("Не удалось выключить push. Попробуйте ещё раз.");
    }).then(function () { off.disabled = false; });
  });

  if (Notification.permission === "denied") {
    say("Уведомления запрещены в настройках браузера для этого сайта.");
  }
  registration().then(function (reg) {
    return reg.pushManager.getSubscription();
  }).then(function (subscription) {
    show(Boolean(subscription));
  }).catch(function () {
    show(false);
  });
})();
