// The console's state: every server's latest values, the sparkline rings, the summary, and
// whether the page shows live data or a past moment. Views subscribe; renders are coalesced
// into one animation frame however many snapshots arrive.

export const SPARK_POINTS = 40;
export const STATUS_ORDER = ["offline", "critical", "warning", "healthy"];

export const state = {
  metrics: [], // metric names, the order of every server's ``values``
  servers: new Map(), // id → server record
  order: [], // ids in the API's order
  summary: null,
  bucket: null,
  at: null,
  mode: "live", // live | replay
  replayAt: null,
  incidents: [], // the incidents view's list, open and past
  openIncidents: [],
  alerts: [],
  role: null, // the signed-in role, null for a viewer without a session
  user: null,
};

const listeners = new Set();
let pending = new Set();
let frame = 0;

/** Call ``fn(changes)`` after state changes; ``changes`` is a Set of topics. */
export function subscribe(fn) { listeners.add(fn); }

export function changed(topic) {
  pending.add(topic);
  if (!frame) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const topics = pending;
  pending = new Set();
  for (const fn of listeners) fn(topics);
}

function record(id) {
  let server = state.servers.get(id);
  if (!server) {
    server = {
      id, role: "", region: "", env: "", status: "healthy", health: 100, alerts: 0,
      values: {}, spark: new Float32Array(SPARK_POINTS), sparkLength: 0, sparkBucket: -1, version: 0,
    };
    state.servers.set(id, server);
    state.order.push(id);
  }
  return server;
}

/** A page of ``/api/fleet`` (live or at a past moment). */
export function applyFleet(page, { replay = false } = {}) {
  for (const s of page.servers) {
    const server = record(s.id);
    server.role = s.role;
    server.region = s.region;
    server.env = s.env;
    server.alerts = s.open_alerts;
    if (replay || state.mode === "live") {
      server.status = s.status;
      server.health = s.health;
      server.values = s.metrics;
      server.version += 1;
    }
  }
  if (replay || state.mode === "live") {
    state.summary = {
      servers: page.summary.servers,
      ...page.summary.by_status,
      health: page.summary.health,
      text: page.summary.text,
    };
    state.bucket = page.bucket;
    state.at = page.at;
  }
  state.fleetSummary = page.summary;
  changed("servers");
  changed("summary");
}

/** One ``snapshot`` event of the stream. Sparklines always advance; the view only when live. */
export function applySnapshot(snap, { history = false } = {}) {
  if (snap.metrics) state.metrics = snap.metrics;
  const cpu = state.metrics.indexOf("cpu_pct");
  const live = state.mode === "live" && !history;
  for (const s of snap.servers) {
    const server = record(s.id);
    if (server.sparkBucket < snap.bucket) {
      pushSpark(server, s.values[cpu]);
      server.sparkBucket = snap.bucket;
      server.version += 1;
    }
    if (!live) continue;
    server.status = s.status;
    server.health = s.health;
    const values = {};
    state.metrics.forEach((name, k) => { values[name] = s.values[k]; });
    server.values = values;
    server.version += 1;
  }
  if (history) {
    changed("servers");
    return;
  }
  state.lastSnapshot = snap;
  if (live) {
    state.summary = { ...snap.summary, text: null };
    state.bucket = snap.bucket;
    state.at = snap.at;
    changed("servers");
    changed("summary");
  }
}

function pushSpark(server, value) {
  const ring = server.spark;
  if (server.sparkLength < SPARK_POINTS) {
    ring[server.sparkLength] = value ?? 0;
    server.sparkLength += 1;
  } else {
    ring.copyWithin(0, 1);
    ring[SPARK_POINTS - 1] = value ?? 0;
  }
}

export function setMode(mode, at = null) {
  state.mode = mode;
  state.replayAt = at;
  if (mode === "live" && state.lastSnapshot) applySnapshot(state.lastSnapshot);
  changed("mode");
  changed("servers");
  changed("summary");
}
