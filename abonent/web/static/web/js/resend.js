/* "Send the code again": locked with a countdown until the server allows a resend.
   The wait in seconds comes from the server (data-resend-wait), so the customer's
   clock does not matter. Without this script the button is simply always enabled
   and the server politely refuses an early resend. */
(function () {
  "use strict";

  function format(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function start(form) {
    var wait = parseInt(form.getAttribute("data-resend-wait") || "0", 10);
    var button = form.querySelector("button[type='submit']");
    var countdown = form.querySelector(".resend__countdown");
    if (!button || !countdown || !(wait > 0)) return;
    var deadline = Date.now() + wait * 1000;
    var timer = document.createElement("span");
    timer.className = "resend__timer";
    countdown.textContent = "Новый код можно запросить через ";
    countdown.appendChild(timer);

    function tick() {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        button.disabled = false;
        countdown.hidden = true;
        return;
      }
      button.disabled = true;
      countdown.hidden = false;
      timer.textContent = format(left);
      // Wake up just after the displayed second changes.
      window.setTimeout(tick, ((deadline - Date.now()) % 1000 || 1000) + 20);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.resend[data-resend-wait]").forEach(start);
  });
})();
