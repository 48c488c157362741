// The AI sidebar: asks POST /api/ai/ask and streams its events — ``thinking`` steps (shown
// as they arrive, collapsible), ``delta`` text, the ``answer`` (servers it names link to
// their detail, a chart when it carries one), ``done`` and ``error``. Answer text is only ever
// set as text, never parsed as HTML.
import { h, svg, fill } from "./dom.js";
import { t, lang, onLanguage } from "./i18n.js";
import { postEvents } from "./sse-post.js";
import { state } from "./state.js";
import { getCsrf } from "./api.js";

const panel = document.getElementById("ai");
const log = document.getElementById("ai-log");
const form = document.getElementById("ai-form");
const input = document.getElementById("ai-q");
const openButton = document.getElementById("ai-open");
let conversation = null;
let busy = false;

/** ``text`` as nodes, with every known server id in it turned into a link to its detail. */
export function linkServers(text, names = []) {
  const ids = new Set([...names, ...state.servers.keys()]);
  if (!ids.size) return [document.createTextNode(text)];
  const escaped = [...ids].sort((a, b) => b.length - a.length).map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`\\b(${escaped.join("|")})\\b`, "g");
  const out = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) out.push(document.createTextNode(text.slice(last, match.index)));
    out.push(h("a.server-link", { href: `#/server/${encodeURIComponent(match[1])}` }, match[1]));
    last = match.index + match[1].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** A small line chart of a ``line`` hint's ``points`` ([{x: bucket, value}]) as SVG; other
 * hints (status, bar, topology, …) are left to the text. */
function miniChart(chart) {
  if (chart.type !== "line") return null;
  const points = (chart.points ?? []).map((p) => [Number(p.x), Number(p.value)]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (points.length < 2) return null;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => ((x - x0) / (x1 - x0 || 1)) * 300;
  const sy = (y) => 80 - ((y - y0) / (y1 - y0 || 1)) * 76;
  return h("figure.ai-chart", {}, svg("svg", { viewBox: "0 0 300 84", role: "img", "aria-label": chart.title ?? chart.metric ?? "chart" },
    svg("polyline", { points: points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "), class: "ai-line" })),
    h("figcaption", {}, String(chart.title ?? [chart.server, chart.metric].filter(Boolean).join(" · "))));
}

async function ask(question) {
  if (busy || !question.trim()) return;
  busy = true;
  const steps = h("ol.steps");
  const summary = h("summary", {}, t("ai.thinking", { n: 0 }));
  const thinking = h("details.thinking", { open: true }, summary, steps);
  const text = h("p.answer-text");
  const turn = h("div.turn", {}, h("p.question", {}, question), thinking, text);
  log.append(turn);
  turn.scrollIntoView({ block: "end" });
  let streamed = "";
  try {
    const csrf = getCsrf();
    const body = {
      question,
      lang,
      ...(conversation ? { conversation_id: conversation } : {}),
      // In replay the question is about the moment on screen.
      ...(state.mode === "replay" && state.replayAt ? { at: state.replayAt } : {}),
    };
    const events = postEvents("/api/ai/ask", body, csrf ? { "X-CSRF-Token": csrf } : {});
    for await (const { event, data } of events) {
      if (event === "thinking") {
        steps.append(h("li", {}, h("strong", {}, String(data.label ?? data.step ?? "")), data.detail ? ` — ${data.detail}` : ""));
        summary.textContent = t("ai.thinking", { n: steps.childElementCount });
      } else if (event === "delta") {
        streamed += String(data.text ?? "");
        text.textContent = streamed;
      } else if (event === "answer") {
        conversation = data.conversation_id ?? conversation;
        fill(text, linkServers(String(data.text ?? streamed), data.servers ?? []));
        thinking.open = false;
        turn.dataset.done = "answer";
        const chart = data.chart ? miniChart(data.chart) : null;
        if (chart) turn.append(chart);
      } else if (event === "error") {
        text.textContent = t("ai.unavailable", { message: data.message ?? data.error?.message ?? "" });
        turn.dataset.done = "error";
      }
    }
  } catch (error) {
    text.textContent = t("ai.unavailable", { message: error.message });
    turn.dataset.done = "error";
  } finally {
    busy = false;
  }
}

function renderSuggestions() {
  fill(document.getElementById("ai-suggest"), t("ai.suggest").map((q) => h("button.btn.ghost.small", { type: "button", onclick: () => ask(q) }, q)));
}

function toggle(open) {
  panel.hidden = !open;
  openButton.setAttribute("aria-expanded", String(open));
  if (open) input.focus();
  else openButton.focus();
}

export function initAi() {
  openButton.addEventListener("click", () => toggle(panel.hidden));
  document.getElementById("ai-close").addEventListener("click", () => toggle(false));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") toggle(false); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = input.value;
    input.value = "";
    ask(q);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  renderSuggestions();
  onLanguage(renderSuggestions);
}
