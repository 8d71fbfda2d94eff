// "Refresh every N s" on a list: <input type="checkbox" data-refresh-every="N">. The choice is
// remembered per list in localStorage. Reloading only this same page, so no other request; it
// waits while the tab is hidden (no point, and no load on the server) and while rows are
// ticked for an action or a field has focus, so a reload never throws away what you were doing.
(() => {
  const toggle = document.querySelector("input[data-refresh-every]");
  if (!toggle) return;
  const key = `ds24site.refresh:${location.pathname}`;
  const seconds = Number(toggle.dataset.refreshEvery);
  let timer = null;

  const busy = () =>
    document.querySelector("input.action-select:checked") ||
    (document.activeElement && document.activeElement.matches("input[type=text], input[type=search], select, textarea"));

  const schedule = () => {
    clearTimeout(timer);
    timer = null;
    if (!toggle.checked || document.hidden) return;
    timer = setTimeout(() => (busy() ? schedule() : location.reload()), seconds * 1000);
  };

  try {
    toggle.checked = localStorage.getItem(key) === "on";
  } catch {
    // Storage can be off (private windows, policies): the toggle still works for this visit.
  }
  toggle.addEventListener("change", () => {
    try {
      if (toggle.checked) localStorage.setItem(key, "on");
      else localStorage.removeItem(key);
    } catch {}
    schedule();
  });
  document.addEventListener("visibilitychange", schedule);
  schedule();
})();
