// The console's picker: a filter box over the functions, and choosing one opens its form.
// Without this script the picker is a plain list with a "Show form" button.
document.addEventListener("DOMContentLoaded", () => {
  const picker = document.getElementById("ds24-picker");
  if (!picker) return;
  const select = picker.querySelector("select");
  const filter = document.getElementById("ds24-function-filter");
  filter.hidden = false;
  filter.addEventListener("input", () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const group of select.querySelectorAll("optgroup")) {
      let shown = 0;
      for (const option of group.querySelectorAll("option")) {
        const text = `${group.label} ${option.textContent}`.toLowerCase();
        option.hidden = !words.every((word) => text.includes(word));
        if (!option.hidden) shown += 1;
      }
      group.hidden = shown === 0;
    }
  });
  filter.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    // Enter picks the first function still shown.
    const first = [...select.options].find((option) => !option.hidden);
    if (first) { first.selected = true; } else { event.preventDefault(); }
  });
  select.addEventListener("change", () => picker.requestSubmit());
});
