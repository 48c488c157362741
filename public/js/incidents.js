// Incidents and alerts: a timeline of incidents with their diagnosis, an alert feed with
// acknowledge, and for operators the inject-failure panel and resolve.
import { api } from "./api.js";
import { h, fill } from "./dom.js";
import { t, pick, label, onLanguage, formatTime } from "./i18n.js";
import { diagnosisBlock, truthBlock, typeName } from "./diagnosis.js";
import { state, changed, subscribe } from "./state.js";
import { asOperator, isOperator } from "./auth.js";
import { alertAsOf, asOf, incidentAsOf } from "./asof.js";

const FAILURE_TYPES = [
  "cpu_overload", "memory_leak", "disk_full", "network_failure", "application_crash", "database_timeout",
  "api_failure", "config_error", "load_balancer_down", "cdn_failure", "dns_resolution_failure", "security_breach",
];
const $ = (id) => document.getElementById(id);
let incidents = [];
let alerts = [];
let timer = 0;

// Past incidents and alerts are shown, not acted on.
const canAct = () => isOperator() && state.mode === "live";

// Which incidents' ground-truth sections the user opened: kept open across refreshes.
const truthOpen = new Set();

function incidentItem(i) {
  const open = i.open;
  const resolve = open && canAct()
    ? h("button.btn.small", { type: "button", onclick: () => asOperator(() => resolveIncident(i.id)) }, t("incidents.resolve"))
    : null;
  const toggled = (isOpen) => (isOpen ? truthOpen.add(i.id) : truthOpen.delete(i.id));
  return h(
    `li.incident.${open ? "open" : "closed"}.sev-${i.severity}`,
    { dataset: { id: i.id, status: i.status } },
    h(
      "div.incident-head",
      {},
      h("strong", {}, typeName(i.type)),
      ` · ${label("istatus", i.status)}`,
      resolve,
    ),
    h("p", {}, pick(i.summary)),
    h("p.muted", {}, pick(i.description)),
    diagnosisBlock(i),
    h("p", {}, h("a", { href: `#/topology/${encodeURIComponent(i.id)}` }, t("incidents.show"))),
    h("ol.timeline", {}, i.timeline.map((e) => h(
      "li",
      { dataset: { event: e.event } },
      h("time", { dateTime: e.at }, formatTime(e.at)),
      ` ${label("event", e.event)}`,
      e.reason ? ` — ${pick(e.reason)}` : "",
    ))),
    truthBlock(i, truthOpen.has(i.id), toggled),
  );
}

function alertItem(a) {
  const ack = a.state === "firing" && canAct()
    ? h("button.btn.small", { type: "button", onclick: () => asOperator(() => acknowledge(a.id)) }, t("alerts.ack"))
    : null;
  return h(
    `li.alert.l-${a.level}`,
    { dataset: { id: a.id, server: a.server, state: a.state, fired: a.fired_at } },
    h("span.level", {}, label("level", a.level)),
    " ",
    h("a", { href: `#/server/${encodeURIComponent(a.server)}` }, a.server),
    ` ${a.metric} · ${label("astate", a.state)} · ${formatTime(a.fired_at)}`,
    a.acknowledged_by ? ` · ${t("alerts.acked", { by: a.acknowledged_by })}` : "",
    h("div.muted", {}, pick(a.summary)),
    ack,
  );
}

function render() {
  fill($("incidents"), incidents.length ? incidents.map(incidentItem) : h("li.muted", {}, t("incidents.none")));
  fill($("alerts"), alerts.length ? alerts.map(alertItem) : h("li.muted", {}, t("alerts.none")));
}

let request = 0;
/** Load the incidents and alerts, live or (in replay) as they stood at the moment shown. */
export async function refreshIncidents() {
  const at = state.mode === "replay" ? state.replayAt : null;
  const ticket = ++request;
  // In replay only what had started (fired) by then: the API's ``to`` filter.
  const [inc, al] = await Promise.all([
    api("/incidents", { query: { limit: 30, to: at } }).catch(() => null),
    api("/alerts", { query: { limit: 50, to: at } }).catch(() => null),
  ]);
  if (ticket !== request) return; // the console moved meanwhile: a newer answer is coming
  if (inc) {
    incidents = at ? asOf(inc.incidents, at, incidentAsOf) : inc.incidents;
    state.incidents = incidents;
    state.openIncidents = incidents.filter((i) => i.open);
    changed("incidents");
  }
  if (al) alerts = at ? asOf(al.alerts, at, alertAsOf) : al.alerts;
  document.getElementById("view-incidents").dataset.at = at ?? "live";
  render();
}

async function acknowledge(id) {
  try {
    await api(`/alerts/${encodeURIComponent(id)}/ack`, { method: "POST" });
  } catch (e) {
    $("inject-result").value = t("error", { message: e.message });
  }
  refreshIncidents();
}

async function resolveIncident(id) {
  try {
    await api(`/incidents/${encodeURIComponent(id)}/resolve`, { method: "POST" });
  } catch (e) {
    $("inject-result").value = t("error", { message: e.message });
  }
  refreshIncidents();
}

function renderTargets() {
  const box = $("inject-targets");
  const ids = [...state.servers.keys()].sort();
  if (box.childElementCount === ids.length) return;
  const chosen = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  fill(box, ids.map((id) => h("label.target", {}, h("input", { type: "checkbox", value: id, checked: chosen.has(id) }), ` ${id}`)));
}

async function inject(event) {
  event.preventDefault();
  const servers = [...$("inject-targets").querySelectorAll("input:checked")].map((i) => i.value);
  if (!servers.length) {
    $("inject-result").value = t("inject.pick");
    return;
  }
  await asOperator(async () => {
    try {
      const made = await api("/incidents", {
        method: "POST",
        body: { type: $("inject-type").value, servers, duration_s: Number($("inject-duration").value) },
      });
      $("inject-result").value = t("inject.done", { id: made.id, servers: made.targets.join(", ") });
    } catch (e) {
      $("inject-result").value = t("error", { message: e.message });
    }
    refreshIncidents();
  });
}

let active = false;
export function showIncidents(on) {
  active = on;
  clearInterval(timer);
  if (on) {
    renderTargets();
    refreshIncidents();
    timer = setInterval(refreshIncidents, 10_000);
  }
}

export function initIncidents() {
  fill($("inject-type"), FAILURE_TYPES.map((type) => h("option", { value: type }, `${typeName(type)} (${type})`)));
  $("inject-type").value = "database_timeout";
  $("inject").addEventListener("submit", inject);
  onLanguage(render);
  subscribe((topics) => {
    if (!active) return;
    if (topics.has("servers")) renderTargets();
    if (topics.has("auth")) render();
  });
}

export { render as renderIncidents };
