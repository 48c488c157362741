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

/** ``incident`` as of ``at``, or null when the console could not have shown it yet (not
 * started, or a simulated one not detected by then). */
export function incidentAsOf(incident, at) {
  if (!before(incident.started_at, at)) return null;
  const detected = before(incident.detected_at, at);
  if (!detected && !incident.injected) return null;
  let status = detected ? "active" : "injected";
  if (before(incident.resolved_at, at)) status = "resolved";
  else if (before(incident.recovered_at, at)) status = "recovered";
  else if (before(incident.escalated_at, at)) status = "escalated";
  else if (before(incident.recovery_attempted_at, at)) status = "recovering";
  return {
    ...incident,
    status,
    open: status !== "recovered" && status !== "resolved",
    diagnosis: detected ? incident.diagnosis : null, // concluded at detection, not before
    timeline: incident.timeline.filter((step) => before(step.at, at)),
  };
}

/** The records as of ``at`` (an ISO time), those not there yet left out. */
export function asOf(records, at, one) {
  const t = Date.parse(at);
  return records.map((r) => one(r, t)).filter((r) => r !== null);
}
