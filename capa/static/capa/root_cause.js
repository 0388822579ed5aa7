// 5 Whys: add another why/because row to the Django formset (no inline script: CSP).
(function () {
  "use strict";
  var list = document.getElementById("why-rows");
  var template = document.getElementById("why-template");
  var button = document.getElementById("add-why");
  var total = document.getElementById("id_whys-TOTAL_FORMS");
  if (!list || !template || !button || !total) { return; }
  var max = parseInt(list.getAttribute("data-max"), 10) || 10;
  function refresh() { button.hidden = parseInt(total.value, 10) >= max; }
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    if (index >= max) { return; }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var inputs = list.querySelectorAll("li:last-child input");
    if (inputs.length) { inputs[0].focus(); }
    refresh();
  });
  refresh();
})();
