// Replay: a time control that moves the whole console to a past moment and back to live.
import { fleetAll } from "./api.js";
import { t, onLanguage, formatTime } from "./i18n.js";
import { state, applyFleet, setMode } from "./state.js";

const range = document.getElementById("replay-range");
const when = document.getElementById("replay-when");
let request = 0;
let debounce = 0;
let onMove = () => {};

function render() {
  const minutes = -Number(range.value);
  when.value = state.mode === "replay" && state.at ? t("replay.at", { time: formatTime(state.at), ago: minutes }) : t("replay.now");
  range.setAttribute("aria-valuetext", when.value);
  document.body.dataset.mode = state.mode;
}

/** Show the fleet ``minutesAgo`` minutes ago (0: live). */
export async function replay(minutesAgo) {
  range.value = String(-minutesAgo);
  const ticket = ++request;
  if (minutesAgo <= 0) {
    setMode("live");
    render();
    onMove();
    return;
  }
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const page = await fleetAll({ at });
  if (ticket !== request) return;
  setMode("replay", page.at);
  applyFleet(page, { replay: true });
  document.body.dataset.replayBucket = String(page.bucket);
  render();
  onMove();
}

export function initReplay(moved) {
  onMove = moved;
  range.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => replay(-Number(range.value)), 250);
  });
  document.getElementById("replay-hour").addEventListener("click", () => replay(60));
  document.getElementById("replay-live").addEventListener("click", () => replay(0));
  onLanguage(render);
  render();
}
