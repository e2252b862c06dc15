/* Abonent: a live appeal thread (customer page and operator console).
   The page works without this file (forms post and reload). With it:
   - a WebSocket to /ws/appeals/<id>/ shows new messages and status changes without reload;
   - it reconnects with a growing pause and asks for everything after the last id it has
     (?after=<id>), so a dropped connection never loses a message; known ids are skipped;
   - the reply form is sent in the background, the files with it. */
(function () {
  "use strict";

  var thread = document.querySelector("[data-thread]");
  if (!thread) return;

  var side = thread.getAttribute("data-side");
  var list = thread.querySelector("[data-thread-list]");
  var live = thread.querySelector("[data-live-state]");
  var tz = thread.getAttribute("data-tz") || undefined;
  var customerName = thread.getAttribute("data-customer") || "";
  var lastId = parseInt(thread.getAttribute("data-last-id") || "0", 10) || 0;
  var socket = null;
  var retry = 0;
  var pingTimer = null;
  var closedByUs = false;

  function scrollToEnd() {
    list.lastElementChild && list.lastElementChild.scrollIntoView({ block: "end" });
  }

  function formatTime(iso) {
    try {
      return new Intl.DateTimeFormat("ru-RU", {
        day: "numeric", month: "long", hour: "2-digit", minute: "2-digit", timeZone: tz,
      }).format(new Date(iso)).replace(" в ", ", ");
    } catch (e) {
      return iso;
    }
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + "\u00a0байт";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1).replace(".", ",") + "\u00a0КБ";
    return (bytes / 1024 / 1024).toFixed(1).replace(".", ",") + "\u00a0МБ";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function authorOf(m) {
    if (m.is_auto) return "Автоответ";
    if (m.is_internal) return "Заметка · " + (m.author || "");
    if (side === "operator" && !m.is_operator) return customerName || "Клиент";
    if (side === "operator" && m.is_operator) return m.author;
    return m.author;
  }

  function render(m) {
    var mine = side === "operator" ? m.is_operator : !m.is_operator;
    var item = el("li", "msg" + (m.is_auto ? " msg--auto" : m.is_internal ? " msg--internal" : "") +
      (mine ? " msg--mine" : "") + " msg--new");
    item.id = "m" + m.id;
    item.setAttribute("data-id", String(m.id));
    var bubble = el("div", "msg__bubble");
    var meta = el("p", "msg__meta");
    meta.appendChild(el("span", "msg__author", authorOf(m)));
    var time = el("time", "msg__time", formatTime(m.created_at));
    time.setAttribute("datetime", m.created_at);
    meta.appendChild(time);
    bubble.appendChild(meta);
    if (m.body) {
      var body = el("div", "msg__body");
      m.body.split("\n").forEach(function (line, i) {
        if (i) body.appendChild(document.createElement("br"));
        body.appendChild(document.createTextNode(line));
      });
      bubble.appendChild(body);
    }
    if (m.attachments && m.attachments.length) {
      var files = el("ul", "msg__files");
      m.attachments.forEach(function (a) {
        var li = document.createElement("li");
        var link = el("a", "file");
        link.href = a.url;
        link.setAttribute("download", "");
        if (a.content_type === "image/jpeg" || a.content_type === "image/png") {
          var img = el("img", "file__thumb");
          img.src = a.url;
          img.alt = "";
          img.width = 56;
          img.height = 56;
          link.appendChild(img);
        }
        var text = el("span", "file__text");
        text.appendChild(el("span", "file__name", a.name));
        text.appendChild(el("span", "file__size", formatSize(a.size)));
        link.appendChild(text);
        li.appendChild(link);
        files.appendChild(li);
      });
      bubble.appendChild(files);
    }
    item.appendChild(bubble);
    return item;
  }

  function add(m) {
    if (m.is_internal && side !== "operator") return;
    if (document.getElementById("m" + m.id)) return; // already shown (catch-up overlap)
    list.appendChild(render(m));
    if (m.id > lastId) lastId = m.id;
    scrollToEnd();
    markRead();
  }

  function setStatus(event) {
    document.querySelectorAll("[data-status]").forEach(function (node) {
      node.textContent = event.status_label.charAt(0).toUpperCase() + event.status_label.slice(1);
      node.className = "status status--" + event.status;
    });
  }

  function showLive(text) {
    if (!live) return;
    live.hidden = !text;
    live.textContent = text || "";
  }

  function markRead() {
    if (socket && socket.readyState === WebSocket.OPEN && document.visibilityState === "visible") {
      socket.send(JSON.stringify({ type: "read", last_id: lastId }));
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + window.location.host + thread.getAttribute("data-ws") + "?after=" + lastId;
    socket = new WebSocket(url);
    socket.addEventListener("open", function () {
      retry = 0;
      showLive("");
      thread.setAttribute("data-live", "on");
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
      }, 25000);
    });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "message") add(data);
      else if (data.type === "status") setStatus(data);
      else if (data.type === "synced") markRead();
    });
    socket.addEventListener("close", function (event) {
      clearInterval(pingTimer);
      thread.setAttribute("data-live", "off");
      if (closedByUs || event.code === 4401 || event.code === 4404) return;
      var pause = Math.min(15000, 1000 * Math.pow(2, retry++));
      showLive("Нет связи, переподключаемся…");
      setTimeout(connect, pause);
    });
  }

  // The reply form: sent in the background; the message shows as soon as it is stored.
  var form = thread.querySelector("[data-chat-form]");
  if (form && window.fetch && window.FormData) {
    var error = form.querySelector("[data-chat-error]");
    var submit = form.querySelector("[data-chat-submit]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (error) { error.hidden = true; error.textContent = ""; }
      if (submit) submit.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        })
        .then(function (result) {
          if (result.ok && result.data.message) {
            add(result.data.message);
            form.reset();
          } else if (error) {
            error.textContent = result.data.message || "Не удалось отправить сообщение.";
            error.hidden = false;
          }
        })
        .catch(function () {
          if (error) {
            error.textContent = "Нет связи с сервером. Сообщение не отправлено — попробуйте ещё раз.";
            error.hidden = false;
          }
        })
        .then(function () { if (submit) submit.disabled = false; });
    });
    // Enter sends, Shift+Enter makes a new line (on a keyboard; phones keep Enter for lines).
    var textarea = form.querySelector("textarea");
    if (textarea && window.matchMedia("(pointer: fine)").matches) {
      textarea.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit ? form.requestSubmit() : form.submit();
        }
      });
    }
  }

  // Canned answers (operator console): insert the chosen text into the reply.
  var canned = document.querySelector("[data-canned]");
  if (canned && form) {
    canned.addEventListener("change", function () {
      var option = canned.options[canned.selectedIndex];
      var text = option && option.getAttribute("data-body");
      var area = form.querySelector("textarea");
      if (text && area) {
        area.value = area.value ? area.value.replace(/\s*$/, "") + "\n" + text : text;
        area.focus();
      }
      canned.selectedIndex = 0;
    });
  }

  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("pagehide", function () { closedByUs = true; if (socket) socket.close(); });
  if ("WebSocket" in window) connect();
  scrollToEnd();
})();
