// The server grid: one keyed card per server, built once and then patched in place. Only the
// cards on screen are patched each tick (an IntersectionObserver tracks them); a card that
// scrolls into view catches up then. Filtering hides cards, sorting moves them only when the
// order actually changed.
import { h, svg } from "./dom.js";
import { t, onLanguage, formatNumber } from "./i18n.js";
import { state, subscribe, STATUS_ORDER, SPARK_POINTS } from "./state.js";

const grid = document.getElementById("grid");
const count = document.getElementById("grid-count");
const inputs = {
  q: document.getElementById("f-q"),
  role: document.getElementById("f-role"),
  region: document.getElementById("f-region"),
  status: document.getElementById("f-status"),
  sort: document.getElementById("f-sort"),
};
const cards = new Map(); // id → {el, parts, version}
const visible = new Set();
let order = [];
let active = false;
let optionsFor = "";

const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const id = entry.target.dataset.id;
      if (entry.isIntersecting) {
        visible.add(id);
        patch(id);
      } else visible.delete(id);
    }
  },
  { rootMargin: "300px 0px" },
);

function build(server) {
  const bar = (key) => {
    const fill = h("span.fill");
    const value = document.createTextNode("");
    const row = h("span.bar-row", {}, h("span.bar-label", {}, t(key)), h("span.bar", {}, fill), h("span.bar-value", {}, value));
    return { row, fill, value, label: row.firstChild };
  };
  const cpu = bar("metric.cpu");
  const mem = bar("metric.mem");
  const disk = bar("metric.disk");
  const status = document.createTextNode("");
  const health = document.createTextNode("");
  const badge = h("span.badge", { hidden: true });
  const line = svg("polyline", { class: "spark-line", points: "" });
  const link = h("a.card-link", { href: `#/server/${encodeURIComponent(server.id)}` }, server.id);
  const el = h(
    "li.card",
    { dataset: { id: server.id } },
    h("div.card-head", {}, link, badge),
    h("div.card-meta", {}, `${server.role} · ${server.region}`),
    h("div.card-status", {}, h("span.status-dot", { "aria-hidden": "true" }), h("span.status-name", {}, status), " · ", health),
    cpu.row, mem.row, disk.row,
    h("span.spark-label", { "aria-hidden": "true" }, t("card.spark")),
    svg("svg", { class: "spark", viewBox: `0 0 ${SPARK_POINTS - 1} 100`, preserveAspectRatio: "none", "aria-hidden": "true" }, line),
  );
  const parts = { status, health, badge, line, cpu, mem, disk, meta: el.querySelector(".card-meta"), spark: el.querySelector(".spark-label") };
  cards.set(server.id, { el, parts, version: -1, statusClass: "", lang: "", alerts: null });
  observer.observe(el);
  return el;
}

/** Write ``value`` to ``target[key]`` only when it changed: an unchanged write still costs a
 * style invalidation (attributes) or a text relayout. */
function put(target, key, value) {
  if (target[key] !== value) target[key] = value;
}

function setBar(bar, value) {
  const pct = Math.max(0, Math.min(100, value ?? 0));
  // Whole percents: the bar cannot show finer, and most ticks then change nothing.
  const scale = String(Math.round(pct) / 100);
  if (bar.scale !== scale) {
    bar.fill.style.setProperty("--v", scale);
    bar.scale = scale;
  }
  const hot = pct >= 90;
  if (bar.hot !== hot) {
    bar.fill.classList.toggle("hot", hot);
    bar.hot = hot;
  }
  put(bar.value, "data", value == null ? "–" : `${Math.round(value)}%`);
}

function patch(id) {
  const card = cards.get(id);
  const server = state.servers.get(id);
  if (!card || !server || (card.version === server.version && card.lang === document.documentElement.lang)) return;
  const { parts } = card;
  const cls = `s-${server.status}`;
  if (card.statusClass !== cls) {
    if (card.statusClass) card.el.classList.remove(card.statusClass);
    card.el.classList.add(cls);
    card.statusClass = cls;
  }
  put(card.el.dataset, "status", server.status);
  const lang = document.documentElement.lang;
  if (card.lang !== lang) {
    parts.cpu.label.textContent = t("metric.cpu");
    parts.mem.label.textContent = t("metric.mem");
    parts.disk.label.textContent = t("metric.disk");
    parts.spark.textContent = t("card.spark");
  }
  put(parts.meta, "textContent", `${server.role} · ${server.region}`);
  put(parts.status, "data", t(`status.${server.status}`));
  put(parts.health, "data", `${t("card.health")} ${formatNumber(server.health, 0)}`);
  setBar(parts.cpu, server.values.cpu_pct);
  setBar(parts.mem, server.values.memory_pct);
  setBar(parts.disk, server.values.disk_pct);
  if (card.alerts !== server.alerts || card.lang !== lang) {
    const label = t("card.alerts", { n: server.alerts });
    parts.badge.hidden = !server.alerts;
    parts.badge.textContent = String(server.alerts);
    parts.badge.title = label;
    parts.badge.setAttribute("aria-label", label);
    card.alerts = server.alerts;
  }
  card.lang = lang;
  put(card.el.dataset, "cpu", String(server.values.cpu_pct ?? ""));
  put(card.el.dataset, "bucket", String(state.bucket ?? ""));
  if (server.sparkLength > 1) {
    // Scaled to its own range (at least 2 points of %), so that small moves show.
    const ring = server.spark.subarray(0, server.sparkLength);
    let low = Infinity;
    let high = -Infinity;
    for (const v of ring) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    const span = Math.max(2, high - low);
    const base = (low + high - span) / 2;
    const offset = SPARK_POINTS - server.sparkLength;
    let points = "";
    for (let k = 0; k < ring.length; k += 1) {
      points += `${k ? " " : ""}${offset + k},${(95 - ((ring[k] - base) / span) * 90).toFixed(1)}`;
    }
    if (parts.points !== points) {
      parts.line.setAttribute("points", points);
      parts.points = points;
    }
  }
  card.version = server.version;
}

function matches(server, q, role, region, status) {
  if (role && server.role !== role) return false;
  if (region && server.region !== region) return false;
  if (status && server.status !== status) return false;
  if (q && !`${server.id} ${server.role} ${server.region} ${server.env}`.toLowerCase().includes(q)) return false;
  return true;
}

const comparators = {
  id: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  status: (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || comparators.id(a, b),
  health: (a, b) => a.health - b.health || comparators.id(a, b),
  cpu: (a, b) => (b.values.cpu_pct ?? 0) - (a.values.cpu_pct ?? 0) || comparators.id(a, b),
  memory: (a, b) => (b.values.memory_pct ?? 0) - (a.values.memory_pct ?? 0) || comparators.id(a, b),
};

function refreshOptions() {
  const key = `${state.servers.size}:${document.documentElement.lang}`;
  if (key === optionsFor) return;
  optionsFor = key;
  const roles = new Set();
  const regions = new Set();
  for (const s of state.servers.values()) {
    if (s.role) roles.add(s.role);
    if (s.region) regions.add(s.region);
  }
  const fillSelect = (select, values, label) => {
    const current = select.value;
    select.replaceChildren(h("option", { value: "" }, t("filter.all")), ...[...values].sort().map((v) => h("option", { value: v }, label(v))));
    select.value = current;
  };
  fillSelect(inputs.role, roles, (v) => v);
  fillSelect(inputs.region, regions, (v) => v);
  fillSelect(inputs.status, STATUS_ORDER.slice().reverse(), (v) => t(`status.${v}`));
}

/** Filter, sort and patch; cheap when nothing but values changed. */
function update() {
  if (!active) return;
  for (const server of state.servers.values()) if (!cards.has(server.id)) grid.append(build(server));
  refreshOptions();
  const q = inputs.q.value.trim().toLowerCase();
  const role = inputs.role.value;
  const region = inputs.region.value;
  const status = inputs.status.value;
  const shown = [];
  for (const server of state.servers.values()) {
    const keep = matches(server, q, role, region, status);
    const card = cards.get(server.id);
    if (card.el.hidden === keep) card.el.hidden = !keep;
    if (keep) shown.push(server);
  }
  shown.sort(comparators[inputs.sort.value] ?? comparators.id);
  const next = shown.map((s) => s.id);
  if (next.length !== order.length || next.some((id, k) => id !== order[k])) {
    const fragment = document.createDocumentFragment();
    for (const id of next) fragment.append(cards.get(id).el);
    grid.prepend(fragment);
    order = next;
  }
  put(count, "value", t("grid.count", { shown: shown.length, total: state.servers.size }));
  for (const id of visible) patch(id);
  put(grid.dataset, "bucket", String(state.bucket ?? ""));
}

export function showGrid(on) {
  active = on;
  if (on) update();
}

/** Set the grid's filters (from the heat map) and show it. */
export function setFilters({ role = "", region = "", status = "" }) {
  inputs.role.value = role;
  inputs.region.value = region;
  inputs.status.value = status;
  update();
}

export function initGrid() {
  for (const input of Object.values(inputs)) input.addEventListener("input", update);
  document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());
  subscribe((topics) => {
    if (topics.has("servers") || topics.has("mode")) update();
  });
  onLanguage(() => {
    optionsFor = "";
    update();
  });
}
