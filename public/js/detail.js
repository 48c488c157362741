// Server detail (#/server/<id>): a metric over 15 min / 1 h / 24 h with the adaptive warning
// and critical bands painted behind the line (uPlot), metrics now, logs by level, processes,
// open alerts and the server's neighbours in the topology.
import { api, ApiError } from "./api.js";
import { h, fill } from "./dom.js";
import { t, pick, label, onLanguage, formatClock, formatNumber, formatTime } from "./i18n.js";
import { state } from "./state.js";

const $ = (id) => document.getElementById(id);
const rangeButtons = [...document.querySelectorAll("[data-range]")];
let current = null; // server id
let detail = null;
let rangeS = 3600;
let metric = "cpu_pct";
let plot = null;
let uPlotModule = null;
let refreshTimer = 0;

async function uPlot() {
  uPlotModule ??= (await import("/vendor/uPlot.esm.js")).default;
  return uPlotModule;
}

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Paint the warning band (warning → critical) and the critical band (critical → top). */
function drawBands(u) {
  const [xs, , warn, crit] = u.data;
  if (!xs.length) return;
  const { ctx } = u;
  const top = u.bbox.top;
  const X = (k) => u.valToPos(xs[k], "x", true);
  const Y = (v) => u.valToPos(v, "y", true);
  const area = (upper, lower, color) => {
    ctx.beginPath();
    for (let k = 0; k < xs.length; k += 1) ctx[k ? "lineTo" : "moveTo"](X(k), upper ? Y(upper[k]) : top);
    for (let k = xs.length - 1; k >= 0; k -= 1) ctx.lineTo(X(k), Y(lower[k]));
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  area(crit, warn, cssColor("--band-warn"));
  area(null, crit, cssColor("--band-crit"));
  ctx.restore();
}

function timeTicks(u, splits) {
  let day = null;
  return splits.map((x) => {
    const date = new Date(x * 1000).toDateString();
    const label = formatClock(x, day !== date);
    day = date;
    return label;
  });
}

async function renderChart() {
  const id = current;
  const to = state.mode === "replay" ? state.replayAt : null;
  const end = to ? Date.parse(to) : Date.now();
  const from = new Date(end - rangeS * 1000).toISOString();
  let history;
  try {
    history = await api(`/servers/${encodeURIComponent(id)}/history`, { query: { metric, from, to, max_points: 300 } });
  } catch (error) {
    fill($("chart"), h("p.error", {}, t("error", { message: error.message })));
    return;
  }
  if (id !== current) return;
  const xs = history.points.map((p) => Date.parse(p.at) / 1000);
  const data = [xs, history.points.map((p) => p.value), history.points.map((p) => p.warning), history.points.map((p) => p.critical)];
  const chart = $("chart");
  const label = t("chart.label", { metric: metricLabel(metric), server: id, range: rangeLabel() });
  chart.setAttribute("aria-label", label);
  chart.dataset.points = String(xs.length);
  const U = await uPlot();
  plot?.destroy();
  const width = Math.max(280, chart.clientWidth || 600);
  const axis = { stroke: cssColor("--muted"), grid: { stroke: cssColor("--grid") }, ticks: { stroke: cssColor("--grid") } };
  plot = new U(
    {
      width,
      height: 240,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      // Ticks in the page's language, 24-hour; the date on the first tick and at midnight.
      axes: [{ ...axis, values: timeTicks }, { ...axis, label: history.unit, size: 60 }],
      series: [
        {},
        { label: metric, stroke: cssColor("--accent"), width: 2 },
        { label: "warning", stroke: cssColor("--warn"), width: 1, dash: [4, 4] },
        { label: "critical", stroke: cssColor("--crit"), width: 1, dash: [4, 4] },
      ],
      hooks: { drawClear: [drawBands] },
    },
    data,
  );
  chart.replaceChildren(plot.root);
}

function metricLabel(name) {
  const m = detail?.metrics.find((x) => x.metric === name);
  return m ? pick(m.label) : name;
}

function rangeLabel() {
  return rangeS === 900 ? "15 min" : rangeS === 3600 ? "1 h" : "24 h";
}

function renderFacts() {
  const d = detail;
  $("h-server").textContent = d.id;
  const spec = d.spec;
  $("server-facts").textContent = `${spec.role} · ${spec.region} · ${spec.env} · ${spec.cores} vCPU · ${spec.memory_gb} GB · ${t(`status.${d.status}`)} · ${t("card.health")} ${formatNumber(d.health, 0)}`;
  $("view-server").dataset.status = d.status;
  const select = $("d-metric");
  fill(select, d.metrics.map((m) => h("option", { value: m.metric }, pick(m.label))));
  select.value = metric;
  const cols = ["col.metric", "col.value", "col.baseline", "col.warning", "col.critical", "col.level"];
  fill(
    $("d-metrics"),
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(c))))),
    h("tbody", {}, d.metrics.map((m) => h(`tr.l-${m.level}`, {},
      h("th", { scope: "row" }, pick(m.label)),
      h("td", {}, `${formatNumber(m.value, 2)} ${m.unit}`),
      h("td", {}, formatNumber(m.baseline, 2)),
      h("td", {}, formatNumber(m.warning, 2)),
      h("td", {}, formatNumber(m.critical, 2)),
      h("td", {}, m.level === "normal" ? "–" : t(`status.${m.level}`)),
    ))),
  );
  fill($("d-alerts"), d.alerts.length ? d.alerts.map((a) => h(`li.l-${a.level}`, {}, `${label("level", a.level)} · ${metricLabel(a.metric)} · ${formatTime(a.fired_at)}`)) : h("li.muted", {}, t("alerts.none")));
  const links = (ids) => (ids.length ? ids.flatMap((id, k) => [k ? ", " : "", h("a", { href: `#/server/${encodeURIComponent(id)}` }, id)]) : [t("detail.nothing")]);
  fill($("d-topology"), t("detail.depends"), ...links(d.dependencies), h("br"), t("detail.dependents"), ...links(d.dependents));
}

async function renderLogs() {
  const id = current;
  const level = $("d-level").value;
  const logs = await api(`/servers/${encodeURIComponent(id)}/logs`, { query: { level, limit: 50 } }).catch(() => null);
  if (id !== current || !logs) return;
  fill($("d-logs"), logs.entries.map((e) => h(`li.log.lv-${e.level}`, {}, h("time", { dateTime: e.at }, formatTime(e.at)), ` ${e.level} ${e.source}: `, e.message)));
}

async function renderProcesses() {
  const id = current;
  const procs = await api(`/servers/${encodeURIComponent(id)}/processes`, { query: { at: state.mode === "replay" ? state.replayAt : null } }).catch(() => null);
  if (id !== current || !procs) return;
  const cols = ["col.pid", "col.name", "col.user", "col.cpu", "col.mem"];
  fill(
    $("d-procs"),
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(c))))),
    h("tbody", {}, procs.processes.map((p) => h("tr", {}, h("td", {}, String(p.pid)), h("th", { scope: "row", title: p.command }, p.name), h("td", {}, p.user), h("td", {}, formatNumber(p.cpu_pct, 1)), h("td", {}, formatNumber(p.memory_pct, 1))))),
  );
}

async function load() {
  const id = current;
  try {
    detail = await api(`/servers/${encodeURIComponent(id)}`);
  } catch (error) {
    if (id !== current) return;
    $("h-server").textContent = id;
    $("server-facts").textContent = error instanceof ApiError && error.status === 404 ? t("detail.notfound", { id }) : t("error", { message: error.message });
    return;
  }
  if (id !== current) return;
  renderFacts();
  await Promise.all([renderChart(), renderLogs(), renderProcesses()]);
}

export function showDetail(id) {
  clearInterval(refreshTimer);
  if (id == null) {
    current = null;
    return;
  }
  if (id !== current) {
    current = id;
    detail = null;
    plot?.destroy();
    plot = null;
    $("chart").replaceChildren();
    fill($("d-logs"));
    fill($("d-procs"));
  }
  load();
  // Live: refresh every 15 s (a chart point every few buckets); replay stays put.
  refreshTimer = setInterval(() => { if (state.mode === "live") load(); }, 15_000);
}

export function refreshDetail() {
  if (current) load();
}

export function initDetail() {
  for (const button of rangeButtons) {
    button.addEventListener("click", () => {
      rangeS = Number(button.dataset.range);
      for (const b of rangeButtons) b.setAttribute("aria-pressed", String(b === button));
      renderChart();
    });
  }
  $("d-metric").addEventListener("change", (e) => {
    metric = e.target.value;
    renderChart();
  });
  $("d-level").addEventListener("change", renderLogs);
  onLanguage(() => { if (current && detail) { renderFacts(); renderChart(); renderLogs(); renderProcesses(); } });
  window.addEventListener("om:theme", () => { if (current && detail) renderChart(); });
}
