// Light and dark: follows the system unless switched, and the choice is remembered.
const KEY = "om.theme";
const select = document.getElementById("theme");

function apply(choice) {
  const dark = choice === "dark" || (choice === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  window.dispatchEvent(new Event("om:theme"));
}

export function initTheme() {
  const saved = localStorage.getItem(KEY);
  const choice = ["light", "dark", "system"].includes(saved) ? saved : "system";
  select.value = choice;
  apply(choice);
  select.addEventListener("change", () => {
    localStorage.setItem(KEY, select.value);
    apply(select.value);
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => apply(select.value));
}
