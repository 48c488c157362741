// The console: hash routes (#/overview, #/servers, #/topology, #/incidents, #/server/<id>),
// the live feed, and the panels wired together.
import { applyStatic, lang, setLanguage, t } from "./i18n.js";
import { initTheme } from "./theme.js";
import { state } from "./state.js";
import { start, firstLive, on, refreshCounts, refreshIndicator } from "./live.js";
import { initGrid, showGrid } from "./grid.js";
import { initOverview, showOverview, refreshSla } from "./overview.js";
import { initTopology, showTopology } from "./topology.js";
import { initDetail, showDetail, refreshDetail } from "./detail.js";
import { initIncidents, showIncidents, refreshIncidents, renderIncidents } from "./incidents.js";
import { initAuth } from "./auth.js";
import { initReplay } from "./replay.js";
import { initAi } from "./ai.js";
import { initNotify } from "./notify.js";
import { toast } from "./toast.js";

const VIEWS = ["overview", "servers", "topology", "incidents", "server"];

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, ...rest] = hash.split("/");
  const view = VIEWS.includes(name) ? name : "overview";
  for (const v of VIEWS) document.getElementById(`view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  showOverview(view === "overview");
  showGrid(view === "servers");
  showTopology(view === "topology", view === "topology" && rest.length ? decodeURIComponent(rest.join("/")) : null);
  showIncidents(view === "incidents");
  showDetail(view === "server" ? decodeURIComponent(rest.join("/")) : null);
  document.title = view === "server" ? `${decodeURIComponent(rest.join("/"))} · OpenManager` : `${t(`nav.${view}`)} · OpenManager`;
}

function wireLanguage() {
  const select = document.getElementById("lang");
  select.value = lang;
  select.addEventListener("change", () => {
    setLanguage(select.value);
    route();
  });
}

let countsTimer = 0;
function scheduleCounts() {
  // Alert and incident events arrive in bursts: refresh the counts once per burst.
  clearTimeout(countsTimer);
  countsTimer = setTimeout(() => {
    refreshCounts();
    refreshIncidents();
  }, 300);
}

async function boot() {
  initTheme();
  applyStatic();
  wireLanguage();
  initGrid();
  initOverview();
  initTopology();
  initDetail();
  initIncidents();
  initReplay(() => {
    refreshIndicator();
    refreshDetail();
    refreshIncidents();
  });
  initAi();
  initNotify();
  const auth = initAuth();
  window.addEventListener("hashchange", route);
  route();
  on("alert", (data, replayed) => {
    // The engine groups the alerts of one incident into one notification: toast that.
    if (data.kind === "notification" && !replayed) {
      toast(lang === "ko" ? data.summary_ko : data.summary_en, data.level);
    }
    scheduleCounts();
  });
  on("incident", scheduleCounts);
  // The fleet and the stream first: the SLA panel (a day of incidents), the incidents and the
  // alerts would compete with them for the server.
  await start();
  await firstLive;
  refreshSla();
  await auth;
  renderIncidents();
  refreshIncidents();
  setInterval(() => { if (state.mode === "live") refreshCounts(); }, 15_000);
  setInterval(refreshSla, 60_000);
  document.body.dataset.ready = "true";
}

boot();
