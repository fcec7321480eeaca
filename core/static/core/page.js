// Small behaviours of our pages, from a file and not from inline on*= handlers, so that
// the Content-Security-Policy can refuse every inline script (docs/security.md).
//
// <select data-autosubmit>: submits its form as soon as a choice is made (the
//   organization and language switchers; a <noscript> button does it without script).
// <input data-select-on-click>: selects its whole value on click (links to copy).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-click")) {
    target.select();
  }
});
