// Incidents and alerts as they stood at a past moment (replay), from the records the API
// returns now: their timestamps say when each step happened. Pure functions of (record, at).

const before = (when, at) => when != null && Date.parse(when) <= at;

/** ``alert`` as of ``at`` (ms since epoch), or null when it had not fired yet. */
export function alertAsOf(alert, at) {
  if (!before(alert.fired_at, at)) return null;
  let state = "firing";
  if (before(alert.resolved_at, at)) state = "resolved";
  else if (before(alert.acknowledged_at, at)) state = "acknowledged";
  return {
    ...alert,
    state,
    live: false,
    resolved_at: state === "resolved" ? alert.resolved_at : null,
    acknowledged_at: before(alert.acknowledged_at, at) ? alert.acknowledged_at : null,
    acknowledged_by: before(alert.acknowledged_at, at) ? alert.acknowledged_by : null,
  };
}

/** The status an incident's ``steps`` up to some moment leave it in. A close that a reopen
 * followed was a close by itself ("resolved": the only kind that reopens); the last close is
 * the incident's own final status. */
function statusAfter(incident, steps) {
  const closes = incident.timeline.filter((step) => step.event === "closed");
  const last = incident.open ? null : closes[closes.length - 1];
  let status = "active";
  let escalated = false;
  for (const step of steps) {
    if (step.event === "recovery_started" || step.event === "recovered") status = "recovering";
    else if (step.event === "escalated") [status, escalated] = ["escalated", true];
    else if (step.event === "reopened") status = escalated ? "escalated" : "active";
    else if (step.event === "closed") status = step === last ? incident.status : "resolved";
  }
  return status;
}

/** A summary without the status it ends with (``…: status`` in each language, as the API
 * writes it), for a moment when the incident stood otherwise. */
function withoutStatus(summary) {
  const cut = (text) => (text.includes(": ") ? text.slice(0, text.lastIndexOf(": ")) : text);
  return { en: cut(summary.en), ko: cut(summary.ko) };
}

/** ``incident`` as of ``at``, or null when the console could not have shown it yet (not
 * started, or a simulated one not detected by then). Its status is read from its timeline:
 * an incident that closed and reopened was closed in between. */
export function incidentAsOf(incident, at) {
  if (!before(incident.started_at, at)) return null;
  const detected = before(incident.detected_at, at);
  if (!detected && !incident.injected) return null;
  const timeline = incident.timeline.filter((step) => before(step.at, at));
  let status = detected ? statusAfter(incident, timeline) : "injected";
  if (!detected && before(incident.resolved_at, at)) status = "resolved";
  return {
    ...incident,
    status,
    summary: status === incident.status ? incident.summary : withoutStatus(incident.summary),
    open: status !== "recovered" && status !== "resolved",
    diagnosis: detected ? incident.diagnosis : null, // concluded at detection, not before
    timeline,
  };
}

/** The records as of ``at`` (an ISO time), those not there yet left out. */
export function asOf(records, at, one) {
  const t = Date.parse(at);
  return records.map((r) => one(r, t)).filter((r) => r !== null);
}
