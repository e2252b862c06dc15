{% load static web_tags %}/* Abonent service worker: the static shell works offline; personal pages never hit the cache. */
"use strict";

const VERSION = "{% static_fingerprint 'web/css/app.css' 'web/js/app.js' 'web/js/resend.js' 'web/vendor/htmx.min.js' 'web/icons/icon.svg' %}";
const CACHE = "abonent-shell-" + VERSION;
const OFFLINE_URL = "{% url 'web:offline' %}";
const STATIC_PREFIX = "{% get_static_prefix %}";
const PRECACHE = [
  "{% static 'web/css/app.css' %}",
  "{% static 'web/js/app.js' %}",
  "{% static 'web/js/resend.js' %}",
  "{% static 'web/vendor/htmx.min.js' %}",
  "{% static 'web/icons/icon.svg' %}",
  "{% static 'web/icons/favicon-32.png' %}",
  "{% static 'web/icons/icon-192.png' %}",
  "{% static 'web/icons/icon-512.png' %}",
  "{% static 'web/icons/apple-touch-icon.png' %}",
];
// Paths that are always personal or live: straight to the network, never stored.
const NEVER_CACHE = ["/api/", "/ws/", "/captcha/", "/admin/"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all([
        cache.addAll(PRECACHE),
        // Without cookies, so the stored offline page is the anonymous one.
        fetch(new Request(OFFLINE_URL, { credentials: "omit" })).then((response) => {
          if (!response.ok) throw new Error("offline page: " + response.status);
          return cache.put(OFFLINE_URL, response);
        }),
      ])
    ).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("abonent-") && key !== CACHE).map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NEVER_CACHE.some((prefix) => url.pathname.startsWith(prefix))) return;

  if (request.mode === "navigate") {
    // Pages come from the network only; the offline page stands in when it fails.
    event.respondWith(
      fetch(request).catch(() =>
        caches.match(OFFLINE_URL).then((cached) => cached || Response.error())
      )
    );
    return;
  }

  if (url.pathname.startsWith(STATIC_PREFIX)) {
    // Static files: answer from the cache, refresh it in the background.
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match(request).then((cached) => {
          const fresh = fetch(request).then((response) => {
            if (response.ok && response.type === "basic") cache.put(request, response.clone());
            return response;
          });
          if (cached) {
            event.waitUntil(fresh.catch(() => undefined));
            return cached;
          }
          return fresh;
        })
      )
    );
  }
  // Anything else (htmx fragments, downloads) goes to the network untouched.
});

// Web Push (notices): show the message; a tap opens (or focuses) the page it points to.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = data.title || "Абонент";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || undefined,
      icon: "{% static 'web/icons/icon-192.png' %}",
      badge: "{% static 'web/icons/icon-192.png' %}",
      lang: "ru",
      data: { url: data.url || "/info/notifications/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/info/notifications/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).pathname === target.pathname && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(target.href);
    })
  );
});
