// A form with data-confirm asks before it is sent (revoking a pass cannot be undone).
// Here rather than in an onsubmit attribute: the pages allow no inline script (CSP).
document.addEventListener("submit", function (e) {
  var question = e.target.dataset.confirm;
  if (question && !window.confirm(question)) { e.preventDefault(); }
});
