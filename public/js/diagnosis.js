// An incident's diagnosis (what the engine concluded from metrics, logs and topology) and,
// apart and collapsed, the simulator's ground truth behind it. Everything is built as text.
import { h } from "./dom.js";
import { t, pick, label, lang, formatTime, formatNumber } from "./i18n.js";

const percent = (x) => `${Math.round(x * 100)}%`;
// Log lines are minutes apart at most: the clock time reads faster than a full date.
const clock = (date) => date.toLocaleTimeString(lang === "ko" ? "ko-KR" : "en-GB", { hour12: false });
const serverLink = (id) => h("a", { href: `#/server/${encodeURIComponent(id)}` }, id);

/** The localised name of a diagnosed type (``unknown``: "type not determined"). */
export const typeName = (type) => label("type", type);

/** The time a bucket began, from two steps of the incident's own timeline (or its start). */
function bucketTime(incident, bucket) {
  const steps = incident.timeline.filter((s) => s.bucket != null);
  const first = steps[0];
  if (!first) return null;
  const last = steps.findLast((s) => s.bucket !== first.bucket);
  const seconds = last ? (Date.parse(last.at) - Date.parse(first.at)) / 1000 / (last.bucket - first.bucket) : 0;
  return new Date(Date.parse(first.at) + (bucket - first.bucket) * seconds * 1000);
}

function fact(name, ...value) {
  return [h("dt", {}, name), h("dd", {}, ...value)];
}

function joinedLinks(ids) {
  return ids.flatMap((id, k) => (k ? [", ", serverLink(id)] : [serverLink(id)]));
}

function movedMetric(incident, m) {
  const arrow = m.direction === "up" ? "↑" : "↓";
  const onset = m.onset_bucket >= 0 ? bucketTime(incident, m.onset_bucket) : null;
  const when = onset ? t("diag.from", { time: formatTime(onset) }) : t("diag.unsettled");
  return h(
    "li",
    { dataset: { server: m.server, metric: m.metric } },
    serverLink(m.server),
    " ",
    h("code", {}, m.metric),
    ` ${arrow} ${formatNumber(m.baseline)} → ${formatNumber(m.observed)} (z ${formatNumber(m.z)}), ${when}`,
  );
}

function logLine(incident, line) {
  const at = bucketTime(incident, line.bucket);
  return h(
    "li",
    { dataset: { server: line.server } },
    at ? h("time", { dateTime: at.toISOString() }, clock(at)) : null,
    " ",
    line.server,
    " ",
    h("span.level", {}, line.level),
    ` ${line.source}: `,
    h("code.msg", {}, line.message),
  );
}

/** Each planned strategy with what became of it: planned, in progress, worked, did not help. */
function attempts(incident, planned) {
  const started = incident.timeline.filter((s) => s.event === "recovery_started").length;
  const outcomes = incident.timeline.filter((s) => s.event === "recovered" || s.event === "recovery_failed");
  return planned.map((strategy, k) => {
    const outcome = outcomes[k]?.event ?? (k < started ? "running" : "planned");
    return h(`li.attempt.a-${outcome}`, { dataset: { outcome } }, h("span.strategy", { title: strategy }, label("strategy", strategy)), ` · ${t(`attempt.${outcome}`)}`);
  });
}

/** The engine's diagnosis of ``incident``, or a note that it has none yet. */
export function diagnosisBlock(incident) {
  const d = incident.diagnosis;
  if (!d) return h("section.diagnosis.pending", {}, h("p.muted", {}, t("diag.pending")));
  const unknown = d.type === "unknown";
  const next = d.hypotheses.filter((x) => x.type !== d.type);
  const onset = bucketTime(incident, d.onset_bucket);
  const affected = d.affected.filter((s) => s !== d.root_server);
  return h(
    `section.diagnosis${unknown ? ".unknown" : ""}`,
    { dataset: { type: d.type, root: d.root_server } },
    h(
      "h3.diag-head",
      {},
      `${t("diag.title")}: `,
      h("strong.diag-type", {}, typeName(d.type)),
      h("span.confidence", {}, ` · ${t("diag.confidence", { value: percent(d.confidence) })}`),
    ),
    unknown ? h("p.diag-unknown", {}, t("diag.unknown")) : null,
    h("p.diag-summary", {}, pick(d.summary)),
    h(
      "dl.diag-facts",
      {},
      fact(t("diag.root"), serverLink(d.root_server)),
      affected.length ? fact(t("diag.affected"), h("span.diag-affected", {}, joinedLinks(affected))) : null,
      onset ? fact(t("diag.onset"), h("time", { dateTime: onset.toISOString() }, formatTime(onset))) : null,
      next.length
        ? fact(t("diag.hypotheses"), next.map((x, k) => `${k ? ", " : ""}${typeName(x.type)} ${percent(x.score)}`).join(""))
        : null,
    ),
    h("h4", {}, t("diag.metrics")),
    d.evidence.metrics.length
      ? h("ol.evidence-metrics", {}, d.evidence.metrics.map((m) => movedMetric(incident, m)))
      : h("p.muted", {}, t("diag.nometrics")),
    h("h4", {}, t("diag.logs")),
    d.evidence.logs.length
      ? h("ol.evidence-logs", {}, d.evidence.logs.map((line) => logLine(incident, line)))
      : h("p.muted", {}, t("diag.nologs")),
    h("h4", {}, t("diag.attempts")),
    d.attempts.length ? h("ol.attempts", {}, attempts(incident, d.attempts)) : h("p.muted", {}, t("diag.noattempts")),
  );
}

/** The simulator's ground truth, collapsed unless ``open``; ``ontoggle`` gets the new state. */
export function truthBlock(incident, open, ontoggle) {
  const s = incident.scenario;
  if (!s || !s.incidents.length) return null;
  const block = h(
    "details.truth",
    { open, ontoggle: () => ontoggle(block.open) },
    h("summary", {}, t("truth.title")),
    h("p.muted", {}, t("truth.note")),
    h(
      "ul",
      {},
      s.incidents.map((i) => h(
        "li",
        { dataset: { type: i.type } },
        t("truth.item", { type: typeName(i.type), targets: i.targets.join(", "), bucket: i.start_bucket }),
        ` · ${t(i.injected ? "truth.injected" : "truth.scheduled")} (${i.id})`,
      )),
    ),
  );
  return block;
}
