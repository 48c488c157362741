// The live feed: /api/stream (SSE) resumed with Last-Event-ID, polling /api/fleet when the
// stream is unavailable, and an indicator that says live, reconnecting or stale.
import { api, fleetAll } from "./api.js";
import { t, onLanguage } from "./i18n.js";
import { applyFleet, applySnapshot, changed, state, SPARK_POINTS } from "./state.js";

const indicator = document.getElementById("live");
const indicatorText = document.getElementById("live-text");
const handlers = { alert: [], incident: [] };

let source = null;
let lastId = null;
let lastBucket = null;
let streamBucket = null;
let gaps = 0;
let lastDataAt = 0;
let bucketSeconds = 3;
let mode = "connecting"; // connecting | live | polling | reconnecting | stale
let pollTimer = 0;
let retryTimer = 0;
let failures = 0;
let startBucket = Infinity;
// Snapshots that arrive before the fleet's pages are in wait for them: every view builds its
// servers (role, region) from the fleet first.
let early = [];
let opened = () => {};
/** Settles once the page shows live data (or gave up trying): what can wait, waits for it. */
export const firstLive = new Promise((resolve) => { opened = resolve; });

/** Register ``fn(data, replayed)`` (``replayed``: from before the page opened) for the stream's ``alert`` or ``incident`` events. */
export function on(kind, fn) { handlers[kind].push(fn); }

function show(next) {
  mode = next;
  render();
}

function render() {
  const replay = state.mode === "replay";
  const shown = replay ? "replay" : mode;
  indicator.dataset.state = shown;
  indicatorText.textContent = t(`live.${shown}`);
  document.body.dataset.live = shown;
}

/** A bucket now shown (from the stream or a poll). */
function received(bucket) {
  if (lastBucket == null || bucket > lastBucket) lastBucket = bucket;
  document.body.dataset.bucket = String(lastBucket);
  lastDataAt = Date.now();
}

/** A snapshot from the stream: a bucket skipped since the last one is a gap in the stream,
 * counted where the tests and the operator (the indicator's title) can see it. */
function streamed(bucket) {
  if (streamBucket != null && bucket > streamBucket + 1) {
    gaps += 1;
    document.body.dataset.gaps = String(gaps);
    indicator.title = `${gaps} gap(s) in the stream`;
  }
  if (streamBucket == null || bucket > streamBucket) streamBucket = bucket;
  document.body.dataset.streamBucket = String(streamBucket);
}

function connect() {
  clearTimeout(retryTimer);
  const url = new URL("/api/stream", location.origin);
  // EventSource sends Last-Event-ID by itself when it reconnects; a new EventSource (after a
  // fallback to polling) passes the last id in the query instead.
  if (lastId) url.searchParams.set("last_event_id", lastId);
  source = new EventSource(url);
  source.addEventListener("open", () => {
    failures = 0;
    stopPolling();
    show("live");
    opened();
  });
  source.addEventListener("snapshot", (event) => {
    lastId = event.lastEventId || lastId;
    const snap = JSON.parse(event.data);
    streamed(snap.bucket);
    if (early) early.push(snap);
    else snapshot(snap);
  });
  for (const kind of ["alert", "incident"]) {
    source.addEventListener(kind, (event) => {
      lastId = event.lastEventId || lastId;
      const data = JSON.parse(event.data);
      const replayed = data.bucket <= startBucket;
      for (const fn of handlers[kind]) fn(data, replayed);
    });
  }
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CONNECTING) {
      show("reconnecting");
      return;
    }
    // Closed for good (an error status or a non-stream answer): poll, and try again later.
    opened();
    source.close();
    source = null;
    failures += 1;
    startPolling();
    retryTimer = setTimeout(connect, Math.min(30_000, 2_000 * 2 ** failures));
  });
}

function snapshot(snap) {
  if (lastBucket != null && snap.bucket <= lastBucket) {
    // The minutes before the page opened, asked for to fill the sparklines.
    applySnapshot(snap, { history: true });
    return;
  }
  estimateBucket(snap);
  received(snap.bucket);
  applySnapshot(snap);
  if (mode !== "live") show("live");
}

/** The fleet is in (or could not be had): apply what the stream sent meanwhile. */
function flushEarly() {
  const waiting = early ?? [];
  early = null;
  for (const snap of waiting) snapshot(snap);
}

let previousAt = null;
function estimateBucket(snap) {
  const at = Date.parse(snap.at);
  if (previousAt != null && snap.bucket === lastBucket + 1 && at > previousAt) {
    bucketSeconds = Math.max(1, Math.round((at - previousAt) / 1000));
  }
  previousAt = at;
}

async function poll() {
  try {
    const page = await fleetAll();
    if (lastBucket == null || page.bucket > lastBucket) {
      received(page.bucket);
      applyFleet(page);
    }
    if (!source || source.readyState !== EventSource.OPEN) show("polling");
    opened();
  } catch {
    // The indicator turns stale below once nothing has arrived for a while.
  }
}

function startPolling() {
  if (pollTimer) return;
  poll();
  pollTimer = setInterval(poll, bucketSeconds * 1000);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = 0;
}

function watchStaleness() {
  const silent = Date.now() - lastDataAt;
  if (lastDataAt && silent > 3 * bucketSeconds * 1000 + 2000 && mode !== "connecting") show("stale");
}

/** Load the fleet once (roles, regions, alert counts) and follow the stream. The stream
 * starts as soon as the first page says which bucket it is, while the other pages load. */
export async function start() {
  render();
  let following = false;
  const follow = () => {
    following = true;
    if ("EventSource" in window) connect();
    else startPolling();
  };
  try {
    const first = await api("/fleet", { query: { limit: 500 } }); // preloaded by index.html
    // Start the stream a little back: its snapshots fill the sparklines at once. A large
    // fleet asks for fewer (each snapshot carries every server).
    startBucket = first.bucket;
    const back = Math.max(4, Math.min(SPARK_POINTS, Math.floor(12_000 / first.summary.servers)));
    lastId = String(first.bucket - back);
    follow();
    const page = await fleetAll({}, first);
    received(page.bucket);
    applyFleet(page);
  } catch {
    show("stale");
    opened();
  }
  flushEarly();
  if (!following) follow();
  setInterval(watchStaleness, 1000);
  onLanguage(render);
}

export function refreshIndicator() { render(); }

/** Alert counts per server and the summary's incident and alert totals, every few buckets. */
export async function refreshCounts() {
  if (state.mode !== "live") return;
  const page = await fleetAll().catch(() => null);
  if (!page) return;
  for (const s of page.servers) {
    const server = state.servers.get(s.id);
    if (server && server.alerts !== s.open_alerts) {
      server.alerts = s.open_alerts;
      server.version += 1;
    }
  }
  state.fleetSummary = page.summary;
  changed("servers");
  changed("summary");
}

