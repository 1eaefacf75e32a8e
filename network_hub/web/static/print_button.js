// The invite sheet's print button (no inline scripts: the CSP forbids them).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
});
