// The notifications panel: Web Push on or off, its minimum level, a test. The push client
// itself (public/js/push.js, with the service worker) comes from the push branch; until it is
// merged the panel says push is unavailable. Toasts for new alerts work regardless.
import { t, onLanguage } from "./i18n.js";

const panel = document.getElementById("notify");
const openButton = document.getElementById("notify-open");
const stateText = document.getElementById("notify-state");
const level = document.getElementById("notify-level");
let push = null;
let enabled = false;
let message = "";

async function loadPush() {
  try {
    push = await import("./push.js");
  } catch {
    push = null;
  }
  const supported = push && (typeof push.isSupported !== "function" || (await push.isSupported()));
  if (!supported) push = null;
  if (push?.status) {
    const s = await push.status().catch(() => null);
    enabled = Boolean(s?.enabled ?? s);
    if (s?.minLevel || s?.min_level) level.value = s.minLevel ?? s.min_level;
  }
  render();
}

function render() {
  stateText.textContent = message || (!push ? t("notify.unsupported") : t(enabled ? "notify.on" : "notify.off"));
  for (const id of ["notify-enable", "notify-disable", "notify-test", "notify-level"]) document.getElementById(id).disabled = !push;
}

async function act(fn, after) {
  message = "";
  try {
    await fn();
    after?.();
  } catch (error) {
    message = t("error", { message: error.message });
  }
  render();
}

function toggle(open) {
  panel.hidden = !open;
  openButton.setAttribute("aria-expanded", String(open));
  if (open) {
    loadPush();
    level.focus();
  } else openButton.focus();
}

export function initNotify() {
  openButton.addEventListener("click", () => toggle(panel.hidden));
  document.getElementById("notify-close").addEventListener("click", () => toggle(false));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") toggle(false); });
  document.getElementById("notify-enable").addEventListener("click", () => act(() => (push.enable ?? push.subscribe)({ minLevel: level.value }), () => { enabled = true; }));
  document.getElementById("notify-disable").addEventListener("click", () => act(() => (push.disable ?? push.unsubscribe)(), () => { enabled = false; }));
  document.getElementById("notify-test").addEventListener("click", () => act(() => (push.sendTest ?? push.test)(), () => { message = t("notify.sent"); }));
  level.addEventListener("change", () => { if (enabled) act(() => (push.enable ?? push.subscribe)({ minLevel: level.value })); });
  onLanguage(render);
  render();
}
