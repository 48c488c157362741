// Fleet overview: health, counts by status, incidents and alerts, the SLA panel, and a
// region × role heat map whose cells open the grid filtered to them.
import { api } from "./api.js";
import { h, fill } from "./dom.js";
import { t, pick, onLanguage, formatNumber } from "./i18n.js";
import { state, subscribe } from "./state.js";
import { setFilters } from "./grid.js";

const kpi = (id) => document.getElementById(id);
let sla = null;
let heatKey = "";

function renderKpis() {
  const s = state.summary;
  if (!s) return;
  kpi("kpi-health").textContent = formatNumber(s.health, 1);
  for (const name of ["healthy", "warning", "critical", "offline"]) kpi(`kpi-${name}`).textContent = String(s[name] ?? 0);
  const fs = state.fleetSummary;
  kpi("kpi-incidents").textContent = fs ? String(fs.active_incidents) : "–";
  kpi("kpi-alerts").textContent = fs ? String(fs.open_alerts) : "–";
  document.getElementById("fleet-text").textContent = fs ? pick(fs.text) : "";
}

function duration(seconds) {
  if (seconds == null) return t("sla.none");
  if (seconds < 120) return `${formatNumber(seconds, 0)} s`;
  return `${formatNumber(seconds / 60, 1)} min`;
}

function renderSla() {
  if (!sla) return;
  document.getElementById("sla").removeAttribute("aria-busy");
  const f = sla.fleet;
  const times = sla.incident_times;
  const pct = (x) => `${formatNumber(x * 100, 3)}%`;
  const row = (label, value, cls) => [h("dt", {}, label), h(`dd${cls ? `.${cls}` : ""}`, {}, value)];
  fill(
    document.getElementById("sla"),
    row(t("sla.availability"), `${pct(f.availability)} (${t(f.met ? "sla.met" : "sla.missed")})`, f.met ? "ok" : "bad"),
    row(t("sla.target"), pct(sla.target)),
    row(t("sla.budget"), pct(Math.max(-9.99, sla.error_budget.remaining_fraction)), sla.error_budget.remaining_fraction > 0 ? "ok" : "bad"),
    row(t("sla.mttd"), duration(times.mttd_s)),
    row(t("sla.mtta"), duration(times.mtta_s)),
    row(t("sla.mttr"), duration(times.mttr_s)),
  );
}

function renderHeat() {
  const cells = new Map();
  const roles = new Set();
  const regions = new Set();
  for (const s of state.servers.values()) {
    if (!s.role) continue;
    roles.add(s.role);
    regions.add(s.region);
    const key = `${s.region}|${s.role}`;
    const cell = cells.get(key) ?? { n: 0, health: 0, worst: 3 };
    cell.n += 1;
    cell.health += s.health;
    cell.worst = Math.min(cell.worst, ["offline", "critical", "warning", "healthy"].indexOf(s.status));
    cells.set(key, cell);
  }
  const roleList = [...roles].sort();
  const regionList = [...regions].sort();
  const table = document.getElementById("heat");
  const key = `${roleList}|${regionList}|${document.documentElement.lang}`;
  if (key !== heatKey) {
    heatKey = key;
    fill(
      table,
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), roleList.map((r) => h("th", { scope: "col" }, r)))),
      h("tbody", {}, regionList.map((g) => h("tr", {}, h("th", { scope: "row" }, g), roleList.map((r) => h("td", {}, h("button.heat-cell", {
        type: "button",
        dataset: { region: g, role: r },
        onclick: () => { setFilters({ region: g, role: r }); location.hash = "#/servers"; },
      })))))),
    );
  }
  for (const button of table.querySelectorAll("button.heat-cell")) {
    const { region, role } = button.dataset;
    const cell = cells.get(`${region}|${role}`);
    const worst = cell ? ["offline", "critical", "warning", "healthy"][cell.worst] : "none";
    const mean = cell ? cell.health / cell.n : null;
    button.className = `heat-cell s-${worst}`;
    button.textContent = cell ? formatNumber(mean, 0) : "–";
    button.setAttribute("aria-label", t("heat.cell", { region, role, n: cell?.n ?? 0, health: cell ? formatNumber(mean, 0) : "–" }));
    button.disabled = !cell;
  }
}

export async function refreshSla() {
  sla = await api("/analytics/sla").catch(() => sla);
  renderSla();
}

let active = false;
export function showOverview(on) {
  active = on;
  if (on) {
    renderKpis();
    renderHeat();
    renderSla();
  }
}

export function initOverview() {
  subscribe((topics) => {
    if (!active) return;
    if (topics.has("summary")) renderKpis();
    if (topics.has("servers")) renderHeat();
  });
  onLanguage(() => showOverview(active));
}
