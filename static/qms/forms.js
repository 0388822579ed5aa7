// A refused form shows its errors next to the fields (issue 18 item 4): when a page comes back
// with one, bring the first error into view and put the cursor in its field, opening the
// <details> panels that hold it. No error, nothing happens.
(function () {
  function show() {
    var error = document.querySelector("main [data-form-error]") || document.querySelector("main form .errorlist");
    if (!error) return;
    for (var node = error.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    var holder = error.closest(".field, form") || error.parentElement;
    var field = holder.querySelector("[aria-invalid=true]") ||
      holder.querySelector("input:not([type=hidden]), select, textarea");
    (field || error).scrollIntoView({ block: "center" });
    if (field) field.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
  // Landing on a fragment scrolls after this script ran: put the error back in view then.
  window.addEventListener("load", function () { if (location.hash) show(); });
})();
