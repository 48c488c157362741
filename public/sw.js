// The service worker for Web Push (lib/push sends the payloads this shows).
//
// - push: show the payload's title and body (already in the subscriber's language), tagged by
//   incident so that a newer message replaces an older one; critical stays until handled;
//   actions "view" and "dismiss" labelled in the payload's language.
// - notificationclick: "dismiss" just closes; otherwise focus an open dashboard and tell it
//   what to show, or open the payload's url (/?incident=<id>).
// - pushsubscriptionchange: subscribe again and send the new subscription, naming the old one
//   so that the server keeps its preferences.
//
// What the page (public/js/push.js) leaves for this worker lives in Cache Storage: the
// endpoint it subscribed and the session's CSRF token, so that a renewal made with no page
// open can still be sent.

const STATE_CACHE = "om-push";
const STATE_URL = "/__om-push-state";
const ACTIONS = {
  en: { view: "View", dismiss: "Dismiss" },
  ko: { view: "보기", dismiss: "닫기" },
};
const FALLBACK = { title: "OpenManager", body: "", level: "info", lang: "en", url: "/", tag: "openmanager" };

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/** The payload of a push, or a generic notice when it carries none or not JSON. */
function readPayload(event) {
  if (!event.data) return FALLBACK;
  try {
    return { ...FALLBACK, ...event.data.json() };
  } catch {
    return { ...FALLBACK, body: event.data.text() };
  }
}

/** ``showNotification``'s arguments for ``payload``. */
function notificationOf(payload) {
  const labels = ACTIONS[payload.lang] ?? ACTIONS.en;
  return [
    payload.title,
    {
      body: payload.body,
      icon: "/icons/icon-192.png",
      badge: "/icons/badge-72.png",
      tag: payload.tag,
      // The same tag again is news (a recovery after an opening): let it alert again.
      renotify: true,
      requireInteraction: payload.level === "critical",
      lang: payload.lang,
      timestamp: payload.sent_at ? Date.parse(payload.sent_at) : Date.now(),
      actions: [
        { action: "view", title: labels.view },
        { action: "dismiss", title: labels.dismiss },
      ],
      data: { url: payload.url, incident_id: payload.incident_id, alert_id: payload.alert_id, level: payload.level },
    },
  ];
}

self.addEventListener("push", (event) => {
  const [title, options] = notificationOf(readPayload(event));
  event.waitUntil(self.registration.showNotification(title, options));
});

/** Focus a window of this dashboard and tell it to show ``url``, or open one at ``url``. */
async function openDashboard(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (!open) return self.clients.openWindow(url);
  open.postMessage({ type: "om:open", url });
  return open.focus();
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  if (event.action === "dismiss") return;
  const url = new URL(event.notification.data?.url ?? "/", self.location.origin);
  // Only ever this dashboard's pages, whatever a payload says.
  const target = url.origin === self.location.origin ? url.href : self.location.origin + "/";
  event.waitUntil(openDashboard(target));
});

async function savedState() {
  const cache = await caches.open(STATE_CACHE);
  const response = await cache.match(STATE_URL);
  return response ? response.json() : {};
}

function keyBytes(base64url) {
  const text = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function renew(oldSubscription, newSubscription) {
  const state = await savedState();
  let subscription = newSubscription;
  if (!subscription) {
    const response = await fetch("/api/push/vapid-public-key", { credentials: "same-origin" });
    if (!response.ok) return; // push was turned off on the server: nothing to renew
    const { public_key: key } = await response.json();
    subscription = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  const replaces = oldSubscription?.endpoint ?? state.endpoint;
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const body = { ...subscription.toJSON(), ...(replaces && replaces !== subscription.endpoint ? { replaces } : {}) };
  const response = await fetch("/api/push/subscriptions", { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
  if (response.ok) {
    const cache = await caches.open(STATE_CACHE);
    await cache.put(STATE_URL, new Response(JSON.stringify({ ...state, endpoint: subscription.endpoint })));
  }
}

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(renew(event.oldSubscription, event.newSubscription));
});
