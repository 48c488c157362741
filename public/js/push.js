// Web Push for the dashboard: the service worker (public/sw.js), the browser's subscription and
// the server's copy of it (/api/push/*). The notifications panel (notify.js) calls status,
// enable, disable and sendTest; follow() makes a notification's link (/?incident=<id>) and a
// click the service worker forwards to an open dashboard show that incident.
import { api, getCsrf } from "./api.js";

const SW_URL = "/sw.js";
// Shared with sw.js: what it needs to renew a subscription with no page open.
const STATE_CACHE = "om-push";
const STATE_URL = "/__om-push-state";

export function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** The service worker's registration, registering it if needed, once it is active. */
export async function register() {
  await navigator.serviceWorker.register(SW_URL, { scope: "/" });
  return navigator.serviceWorker.ready;
}

function keyBytes(base64url) {
  const text = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const have = new Uint8Array(buffer);
  return have.length === bytes.length && have.every((b, i) => b === bytes[i]);
}

async function serverKey() {
  try {
    return (await api("/push/vapid-public-key")).public_key;
  } catch (error) {
    if (error.status === 404) return null; // push is off on this deployment
    throw error;
  }
}

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  return registration ? registration.pushManager.getSubscription() : null;
}

async function loadState() {
  const response = await (await caches.open(STATE_CACHE)).match(STATE_URL);
  return response ? response.json() : {};
}

async function saveState(state) {
  await (await caches.open(STATE_CACHE)).put(STATE_URL, new Response(JSON.stringify(state)));
}

/** {supported, enabled (the server has push on), subscribed, preferences}. */
export async function status() {
  if (!supported()) return { supported: false, enabled: false, subscribed: false, preferences: null };
  if (!(await serverKey())) return { supported: true, enabled: false, subscribed: false, preferences: null };
  const subscription = await currentSubscription();
  const state = await loadState();
  const mine = subscription && state.endpoint === subscription.endpoint;
  return { supported: true, enabled: true, subscribed: Boolean(subscription), preferences: mine ? state.preferences : null };
}

/** Ask for permission, subscribe with the server's key and store it with ``preferences``
 * ({min_level, lang, servers, roles, regions}); enabling again updates the preferences. */
export async function enable(preferences) {
  if ((await Notification.requestPermission()) !== "granted") {
    throw new Error(document.documentElement.lang === "ko" ? "알림 권한이 거부되었습니다" : "notifications are blocked for this site");
  }
  const key = await serverKey();
  if (!key) throw new Error("Web Push is off on this server");
  const bytes = keyBytes(key);
  const registration = await register();
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, bytes)) {
    // Made with a key the server no longer has: push services would refuse its pushes.
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
  const stored = await api("/push/subscriptions", { method: "POST", body: { ...subscription.toJSON(), preferences } });
  await saveState({ endpoint: subscription.endpoint, preferences: stored.preferences, csrf: getCsrf() });
  return stored;
}

export async function disable() {
  const subscription = await currentSubscription();
  if (!subscription) return;
  await api("/push/subscriptions", { method: "DELETE", body: { endpoint: subscription.endpoint } }).catch((error) => {
    if (error.status !== 404) throw error; // already forgotten by the server: fine
  });
  await subscription.unsubscribe();
  await saveState({});
}

export async function sendTest() {
  const subscription = await currentSubscription();
  if (!subscription) throw new Error("not subscribed");
  const outcome = await api("/push/test", { method: "POST", body: { endpoint: subscription.endpoint } });
  // The panel says "Test sent." only when the push service took it.
  if (outcome.status !== "sent") throw new Error(`push service: ${outcome.code ?? outcome.status}`);
  return outcome;
}

let revealed = null;

/** Mark the shown incident in the list (which re-renders as incidents change), and scroll to
 * it the first time it is there. */
function mark() {
  const id = document.body.dataset.incident;
  const item = id && [...document.getElementById("incidents").children].find((li) => li.dataset.id === id);
  if (!item) return;
  item.setAttribute("aria-current", "true");
  if (revealed === id) return;
  revealed = id;
  item.scrollIntoView({ block: "center" });
}

/** Show what a notification links to: ``/?incident=<id>`` becomes the incidents view with
 * that incident marked (``body[data-incident]``, ``aria-current`` on its item). */
export function show(url) {
  const target = new URL(url, location.origin);
  const incident = target.searchParams.get("incident");
  if (target.origin !== location.origin || !incident) return;
  document.body.dataset.incident = incident;
  // Drop the query (a reload should not jump again), then route as the tabs do.
  if (location.search) history.replaceState(null, "", `/${location.hash}`);
  if (location.hash !== "#/incidents") location.hash = "#/incidents";
  mark();
}

/** Follow the page's own link and the clicks the service worker forwards. */
export function follow() {
  new MutationObserver(mark).observe(document.getElementById("incidents"), { childList: true });
  if (new URLSearchParams(location.search).has("incident")) show(location.href);
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.origin === location.origin && event.data?.type === "om:open") show(event.data.url);
  });
}
