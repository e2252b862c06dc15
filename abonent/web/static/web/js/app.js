/* Abonent: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Offline support: register the service worker that serves the offline page.
  var swUrl = document.body && document.body.getAttribute("data-sw");
  if (swUrl && "serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(swUrl, { scope: "/" }).catch(function () {
        /* Without a service worker the site simply works online only. */
      });
    });
  }

  // Toasts: reveal the close buttons (they do nothing without scripts).
  function initToasts(root) {
    root.querySelectorAll("[data-dismiss='toast'][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  // Passwords: a "show" toggle next to every password input.
  function initPasswords(root) {
    root.querySelectorAll(".password").forEach(function (box) {
      var input = box.querySelector("input");
      if (!input || box.querySelector(".password__toggle")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "password__toggle";
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", "Показать пароль");
      button.setAttribute("aria-controls", input.id);
      button.innerHTML = eyeIcon(false);
      box.appendChild(button);
      box.classList.add("password--toggle");
    });
  }

  function eyeIcon(off) {
    var paths = off
      ? '<path d="M10.6 5.1A10 10 0 0 1 12 5c6.5 0 10 7 10 7a17 17 0 0 1-2.2 3.2M6.6 6.6C3.6 8.5 2 12 2 12s3.5 7 10 7a9.7 9.7 0 0 0 5.4-1.6"/><path d="M9.9 9.9a3 3 0 0 0 4.2 4.2M2 2l20 20"/>'
      : '<path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z"/><circle cx="12" cy="12" r="3"/>';
    return '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" ' +
      'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">' +
      paths + "</svg>";
  }

  function init(root) {
    initToasts(root);
    initPasswords(root);
  }

  // One delegated listener, so content swapped in by htmx works too.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    var close = target.closest("[data-dismiss='toast']");
    if (close) {
      var toast = close.closest(".toast");
      if (toast) toast.remove();
      return;
    }

    var toggle = target.closest(".password__toggle");
    if (toggle) {
      var input = document.getElementById(toggle.getAttribute("aria-controls"));
      if (!input) return;
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      toggle.setAttribute("aria-pressed", show ? "true" : "false");
      toggle.setAttribute("aria-label", show ? "Скрыть пароль" : "Показать пароль");
      toggle.innerHTML = eyeIcon(show);
      return;
    }

    var refresh = target.closest("[data-captcha-refresh]");
    if (refresh) {
      event.preventDefault();
      refreshCaptcha(refresh);
      return;
    }

    var reload = target.closest("[data-reload]");
    if (reload) {
      event.preventDefault();
      window.location.reload();
    }
  });

  // Captcha: fetch a new picture in place, so typed-in fields are kept.
  function refreshCaptcha(link) {
    var box = link.closest(".captcha-box");
    if (!box) return;
    fetch(link.getAttribute("data-captcha-refresh"), {
      headers: { "X-Requested-With": "XMLHttpRequest" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        var image = box.querySelector("img");
        var key = box.querySelector("input[type='hidden']");
        var answer = box.querySelector("input[type='text']");
        if (image) image.src = data.image_url;
        if (key) key.value = data.key;
        if (answer) {
          answer.value = "";
          answer.focus();
        }
      })
      .catch(function () {
        window.location.href = link.href; // fall back to reloading the page
      });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
