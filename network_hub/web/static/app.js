// Copy buttons (invite links): <button data-copy="text">. No inline scripts (the CSP forbids them).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  event.preventDefault();
  var text = button.getAttribute("data-copy");
  if (navigator.clipboard) {
    navigator.clipboard.writeText(text).then(function () { button.textContent = "✓"; });
  }
});
