/* «Оплата»: the live «Итого к оплате», per-account subtotals, excluded accounts, the
   «save card» box only for a new card. Loaded as a static file (strict CSP: no inline JS).
   Without JavaScript the form still works: the server checks and sums everything again. */
(function () {
  "use strict";
  var form = document.querySelector("[data-pay-form]");
  if (!form) return;
  var money = new Intl.NumberFormat("ru-RU", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function parse(input) {
    var text = input.value.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    if (text === "") return 0;
    if (!/^\d+(\.\d{1,2})?$/.test(text)) return NaN;
    return Math.round(parseFloat(text) * 100);
  }

  function rub(kopecks) {
    // Grouped with a narrow no-break space, as the server prints money (format_rub).
    return money.format(kopecks / 100).replace(/[\u00a0\s]/g, "\u202f") + "\u00a0₽";
  }

  function update() {
    var total = 0;
    var bad = false;
    form.querySelectorAll("[data-pay-account]").forEach(function (fieldset) {
      var include = fieldset.querySelector("[data-pay-include]");
      var on = !include || include.checked;
      var sub = 0;
      fieldset.classList.toggle("pay-account--off", !on);
      fieldset.querySelectorAll("[data-pay-amount]").forEach(function (input) {
        input.disabled = !on;
        if (!on) return;
        var value = parse(input);
        var max = parseFloat(input.getAttribute("data-max") || "0") * 100;
        var invalid = isNaN(value) || (max > 0 && value > max);
        input.classList.toggle("pay-line__amount--invalid", invalid);
        if (invalid) { bad = true; return; }
        sub += value;
      });
      var out = fieldset.querySelector("[data-pay-subtotal]");
      if (out) out.textContent = on ? rub(sub) : "—";
      total += on ? sub : 0;
    });
    var text = bad ? "—" : rub(total);
    form.querySelectorAll("[data-pay-total]").forEach(function (el) { el.textContent = text; });
    var button = form.querySelector("[data-pay-total-button]");
    if (button) button.textContent = bad || total === 0 ? "" : text;
  }

  function method() {
    var chosen = form.querySelector("[data-pay-method]:checked");
    var save = form.querySelector("[data-pay-save]");
    if (save) save.hidden = !!chosen && chosen.value !== "new";
  }

  form.addEventListener("input", update);
  form.addEventListener("change", function () { update(); method(); });
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });
  update();
  method();
})();
