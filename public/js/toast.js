// In-page toasts: short notices for new alerts while the page is open.
import { h } from "./dom.js";

const box = document.getElementById("toasts");

export function toast(text, level = "info") {
  const item = h(`div.toast.l-${level}`, { role: "status" }, text);
  box.append(item);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(() => item.remove(), 6000);
}
