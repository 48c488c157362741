// Topology per region: load balancers → web → API → database / cache / queue, coloured by
// status, with each open incident's root cause and affected servers ringed.
import { api } from "./api.js";
import { h, svg, fill } from "./dom.js";
import { t, onLanguage } from "./i18n.js";
import { typeName } from "./diagnosis.js";
import { state, subscribe } from "./state.js";

const LAYERS = [["loadbalancer"], ["web"], ["api"], ["database", "cache", "queue"]];
const SHORT = { loadbalancer: "lb", database: "db" };
const root = document.getElementById("topology");
const nodes = new Map(); // id → {group, circle}
let builtFor = "";
let active = false;
let selected = null; // the incident id of #/topology/<id>: only it is highlighted
// id → the ids it depends on, from each server's detail; fetched once for fleets small enough
// to draw edge by edge. Without it (or for a large fleet) adjacent layers are joined.
let dependsOn = null;
let loading = false;
const DETAILED_UP_TO = 60;

async function loadDependencies() {
  if (loading || dependsOn || state.servers.size === 0 || state.servers.size > DETAILED_UP_TO) return;
  loading = true;
  const found = new Map();
  const ids = [...state.servers.keys()];
  for (let k = 0; k < ids.length; k += 6) {
    const details = await Promise.all(ids.slice(k, k + 6).map((id) => api(`/servers/${encodeURIComponent(id)}`).catch(() => null)));
    for (const d of details) if (d) found.set(d.id, d.dependencies);
  }
  dependsOn = found;
  loading = false;
  builtFor = "";
  if (active) paint();
}

function joined(a, b) {
  if (!dependsOn) return true;
  return (dependsOn.get(a.id) ?? []).includes(b.id) || (dependsOn.get(b.id) ?? []).includes(a.id);
}

function build() {
  const byRegion = new Map();
  for (const s of state.servers.values()) {
    if (!s.region) continue;
    if (!byRegion.has(s.region)) byRegion.set(s.region, []);
    byRegion.get(s.region).push(s);
  }
  nodes.clear();
  const figures = [...byRegion.keys()].sort().map((region) => {
    const servers = byRegion.get(region);
    const columns = LAYERS.map((roles) => servers.filter((s) => roles.includes(s.role)).sort((a, b) => (a.id < b.id ? -1 : 1)));
    const rows = Math.max(1, ...columns.map((c) => c.length));
    const width = 640;
    const height = 40 + rows * 44;
    const x = (k) => 60 + k * ((width - 120) / (LAYERS.length - 1));
    const y = (k, n) => 30 + (k + 0.5) * ((height - 40) / n);
    const place = new Map();
    columns.forEach((col, k) => col.forEach((s, j) => place.set(s.id, [x(k), y(j, col.length)])));
    const edges = [];
    for (let k = 0; k + 1 < columns.length; k += 1) {
      const [from, to] = [columns[k], columns[k + 1]];
      if (from.length * to.length > 400) continue; // a huge region: nodes only, edges would be noise
      for (const a of from) for (const b of to) {
        if (!joined(a, b)) continue;
        const [x1, y1] = place.get(a.id);
        const [x2, y2] = place.get(b.id);
        edges.push(svg("line", { x1, y1, x2, y2, class: "edge" }));
      }
    }
    const heads = LAYERS.map((roles, k) => svg("text", { x: x(k), y: 16, class: "layer", "text-anchor": "middle" }, roles.map((r) => SHORT[r] ?? r).join(" · ")));
    const drawn = [...place.entries()].map(([id, [cx, cy]]) => {
      const circle = svg("circle", { cx, cy, r: 11, class: "node" });
      const ring = svg("circle", { cx, cy, r: 16, class: "ring" });
      const label = svg("text", { x: cx, y: cy + 27, class: "node-label", "text-anchor": "middle" }, id);
      const title = svg("title", {}, id);
      const group = svg("a", { href: `#/server/${encodeURIComponent(id)}`, class: "topo-node", "data-id": id }, title, ring, circle, label);
      nodes.set(id, { group, title });
      return group;
    });
    return h(
      "figure.topo",
      {},
      h("figcaption", {}, t("topology.region", { region })),
      // On a phone the drawing keeps a readable size and scrolls sideways within its panel.
      h("div.scroll-x", {}, svg("svg", { viewBox: `0 0 ${width} ${height + 20}`, role: "group", "aria-label": t("topology.region", { region }) }, edges, heads, drawn)),
    );
  });
  fill(root, figures);
}

function paint() {
  const key = `${state.servers.size}|${document.documentElement.lang}`;
  if (key !== builtFor) {
    builtFor = key;
    build();
  }
  const roots = new Set();
  const affected = new Set();
  for (const incident of highlighted()) {
    // The engine's diagnosis names the root cause and the servers it reached.
    const d = incident.diagnosis;
    const root = d?.root_server ?? incident.root_server;
    if (root) roots.add(root);
    for (const s of d?.affected ?? incident.servers ?? []) affected.add(s);
  }
  for (const [id, node] of nodes) {
    const server = state.servers.get(id);
    const mark = roots.has(id) ? " root" : affected.has(id) ? " affected" : "";
    const cls = `topo-node s-${server.status}${mark}`;
    if (node.group.getAttribute("class") !== cls) node.group.setAttribute("class", cls);
    const title = `${id}: ${t(`status.${server.status}`)}`;
    if (node.title.textContent !== title) node.title.textContent = title;
  }
}

/** The selected incident, when one is; else every open incident. */
function highlighted() {
  const focus = document.getElementById("topology-focus");
  const incident = selected && state.incidents.find((i) => i.id === selected);
  focus.hidden = !incident;
  if (!incident) return state.openIncidents;
  const d = incident.diagnosis;
  const servers = d?.affected ?? incident.servers;
  document.getElementById("topology-focus-text").textContent = t("topology.focus", {
    type: typeName(d?.type ?? incident.type),
    server: d?.root_server ?? incident.root_server ?? "?",
    n: servers.length,
  });
  return [incident];
}

/** Show (``on``) or hide the view; ``incident`` selects one incident to highlight. */
export function showTopology(on, incident = null) {
  active = on;
  selected = incident;
  if (on) {
    paint();
    loadDependencies();
  }
}

export function initTopology() {
  subscribe((topics) => {
    if (!active) return;
    if (topics.has("servers") || topics.has("incidents")) paint();
    if (topics.has("servers")) loadDependencies();
  });
  onLanguage(() => {
    builtFor = "";
    if (active) paint();
  });
}
