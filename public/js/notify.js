// The notifications panel: Web Push on or off, its minimum level, a test, through the push
// branch's client (public/js/push.js: status, enable, disable, sendTest, with public/sw.js).
// Without it, or with push off on the server, the panel says push is unavailable. Toasts for
// new alerts work regardless.
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
  // push.js's status(): {supported, enabled (the server has push on), subscribed, preferences}.
  const s = push ? await push.status().catch(() => null) : null;
  if (!s?.supported || !s.enabled) push = null;
  enabled = Boolean(s?.subscribed);
  if (s?.preferences?.min_level) level.value = s.preferences.min_level;
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
    document.getElementById("notify-close").focus();
  } else openButton.focus();
}

export function initNotify() {
  // A notification's link (/?incident=<id>) and clicks the service worker forwards.
  import("./push.js").then((p) => p.follow());
  openButton.addEventListener("click", () => toggle(panel.hidden));
  document.getElementById("notify-close").addEventListener("click", () => toggle(false));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") toggle(false); });
  const subscribe = () => push.enable({ min_level: level.value, lang: document.documentElement.lang });
  document.getElementById("notify-enable").addEventListener("click", () => act(subscribe, () => { enabled = true; }));
  document.getElementById("notify-disable").addEventListener("click", () => act(() => push.disable(), () => { enabled = false; }));
  document.getElementById("notify-test").addEventListener("click", () => act(() => push.sendTest(), () => { message = t("notify.sent"); }));
  level.addEventListener("change", () => { if (enabled) act(subscribe); });
  onLanguage(render);
  render();
}
