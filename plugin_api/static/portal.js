// Progressive enhancement only: every page works without this file.
// Empty filter fields are left out of the URL, so the address of a filtered list stays short to share.
document.addEventListener("submit", (event) => {
  for (const field of event.target.querySelectorAll("input[name], select[name]")) {
    if (!field.value) field.disabled = true;
  }
});
// Coming back to a page (history, back-forward cache) brings its fields back.
window.addEventListener("pageshow", () => {
  for (const field of document.querySelectorAll("form.filters [disabled]")) field.disabled = false;
});
