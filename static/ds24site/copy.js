// Copy buttons in the admin: <button data-copy="text"> or <button data-copy-from="element-id">.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy], button[data-copy-from]");
  if (!button) return;
  event.preventDefault();
  const source = button.dataset.copyFrom && document.getElementById(button.dataset.copyFrom);
  const text = source ? source.value : button.dataset.copy;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    // Clipboard access needs a secure context; fall back to selecting the text for Ctrl+C.
    if (source) source.select();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { button.textContent = label; }, 1500);
});
