// Korean and English text; the language comes from the browser, is switchable and remembered.
const STRINGS = {
  en: {
    skip: "Skip to content", views: "Views", lang: "Language", theme: "Theme",
    "theme.system": "System", "theme.light": "Light", "theme.dark": "Dark",
    "nav.overview": "Overview", "nav.servers": "Servers", "nav.topology": "Topology", "nav.incidents": "Incidents",
    "live.connecting": "Connecting", "live.live": "Live", "live.polling": "Live (polling)",
    "live.reconnecting": "Reconnecting", "live.stale": "Stale", "live.replay": "Replay",
    "replay.label": "Time", "replay.hour": "−1 h", "replay.live": "Live",
    "replay.now": "Live: now", "replay.at": "Replay: {time} ({ago} min ago)",
    "overview.title": "Fleet overview", "overview.health": "Fleet health",
    "overview.incidents": "Active incidents", "overview.alerts": "Open alerts",
    "status.healthy": "Healthy", "status.warning": "Warning", "status.critical": "Critical", "status.offline": "Offline",
    "sla.title": "SLA (24 h)", "sla.availability": "Availability", "sla.target": "Target",
    "sla.budget": "Error budget left", "sla.mtta": "MTTA", "sla.mttr": "MTTR", "sla.mttd": "MTTD",
    "sla.met": "met", "sla.missed": "missed", "sla.none": "no sample",
    "heat.title": "Region × role", "heat.cell": "{region}, {role}: {n} servers, mean health {health}",
    "servers.title": "Servers", "filter.search": "Search", "filter.role": "Role", "filter.region": "Region",
    "filter.status": "Status", "filter.sort": "Sort", "filter.all": "All",
    "sort.id": "Name", "sort.status": "Status (worst first)", "sort.health": "Health (lowest first)",
    "sort.cpu": "CPU (highest first)", "sort.memory": "Memory (highest first)",
    "grid.count": "{shown} of {total} servers", "card.alerts": "{n} open alerts", "card.health": "health",
    "metric.cpu": "CPU", "metric.mem": "Memory", "metric.disk": "Disk",
    "topology.title": "Topology",
    "topology.legend": "Load balancer → web → API → database, cache and queue, per region. A thick ring marks an incident's root cause, a dashed ring the servers it affects.",
    "topology.region": "Region {region}",
    "incidents.title": "Incidents and alerts", "incidents.timeline": "Incident timeline",
    "incidents.none": "No incidents.", "incidents.resolve": "Resolve",
   
    "alerts.feed": "Alert feed", "alerts.none": "No alerts.", "alerts.ack": "Acknowledge",
    "alerts.acked": "acknowledged by {by}",
    "inject.title": "Inject a failure", "inject.type": "Type", "inject.duration": "Duration (s)",
    "inject.targets": "Targets", "inject.submit": "Inject", "inject.done": "Injected {id} on {servers}.",
    "inject.pick": "Choose at least one target.",
    "detail.back": "← All servers", "detail.metric": "Metric", "detail.range": "Range",
    "range.15m": "15 min", "range.1h": "1 h", "range.24h": "24 h", "card.spark": "CPU trend",
    "detail.metrics": "Metrics now", "detail.alerts": "Open alerts", "detail.topology": "Place in the topology",
    "detail.logs": "Logs", "detail.level": "Level", "detail.processes": "Processes",
    "detail.depends": "Depends on: ", "detail.dependents": "Used by: ", "detail.nothing": "none",
    "detail.notfound": "No server {id}.",
    "col.metric": "Metric", "col.value": "Value", "col.baseline": "Baseline", "col.warning": "Warning",
    "col.critical": "Critical", "col.level": "Level", "col.pid": "PID", "col.name": "Name", "col.user": "User",
    "col.cpu": "CPU %", "col.mem": "Mem %",
    "chart.empty": "Metric chart", "chart.value": "value", "chart.warning": "warning band", "chart.critical": "critical band",
    "chart.label": "{metric} of {server} over {range}",
    "ai.open": "Ask AI", "ai.title": "AI assistant", "ai.question": "Question", "ai.ask": "Ask",
    "ai.thinking": "Thinking ({n} steps)", "ai.unavailable": "The assistant is not available: {message}",
    "ai.suggest": ["Which server is the slowest right now?", "Why is the database slow?", "Summarise today's incidents."],
    "notify.open": "Notifications", "notify.title": "Notifications", "notify.level": "Minimum level",
    "notify.enable": "Enable", "notify.disable": "Disable", "notify.test": "Send a test",
    "notify.unsupported": "Web Push is not available here.", "notify.on": "Push notifications are on.",
    "notify.off": "Push notifications are off.", "notify.sent": "Test sent.",
    "login.open": "Sign in", "login.out": "Sign out ({name})", "login.title": "Sign in",
    "login.username": "Username", "login.password": "Password", "login.totp": "One-time code (when configured)",
    "login.submit": "Sign in", "login.needed": "Sign in as an operator to do this.",
    "close": "Close", "cancel": "Cancel", "error": "Error: {message}",
    "toast.alert": "{level}: {server} {metric}",
    "level.info": "Info", "level.warning": "Warning", "level.error": "Error", "level.critical": "Critical",
    "astate.pending": "pending", "astate.firing": "firing", "astate.acknowledged": "acknowledged", "astate.resolved": "resolved",
    "strategy.restart_service": "Restart the service", "strategy.scale_up": "Scale up", "strategy.cleanup_logs": "Clean up logs",
    "strategy.switch_backup_network": "Switch to the backup network", "strategy.failover": "Fail over to the replica",
    "strategy.circuit_breaker": "Open the circuit breaker", "strategy.rollback_config": "Roll back the configuration",
    "strategy.reroute_traffic": "Reroute traffic", "strategy.purge_cdn": "Purge the CDN", "strategy.flush_dns": "Flush DNS",
    "strategy.isolate_and_rotate_credentials": "Isolate and rotate credentials",
    "type.cpu_overload": "CPU overload", "type.memory_leak": "Memory leak", "type.disk_full": "Disk full",
    "type.network_failure": "Network failure", "type.application_crash": "Application crash",
    "type.database_timeout": "Database timeout", "type.api_failure": "API failure", "type.config_error": "Configuration error",
    "type.load_balancer_down": "Load balancer down", "type.cdn_failure": "CDN failure",
    "type.dns_resolution_failure": "DNS resolution failure", "type.security_breach": "Security breach",
    "type.unknown": "Type not determined",
    "event.injected": "injected", "event.started": "anomaly began", "event.detected": "detected and diagnosed",
    "event.joined": "spread", "event.revised": "diagnosis revised", "event.reopened": "came back, reopened", "event.recovery_started": "recovery tried", "event.recovered": "recovered",
    "event.recovery_failed": "recovery did not help", "event.escalated": "escalated", "event.closed": "closed",
    "diag.title": "Diagnosis", "diag.pending": "Not diagnosed yet: the engine has not detected it.",
    "diag.confidence": "confidence {value}", "diag.unknown": "The anomaly matches no known failure: an operator should look.",
    "diag.hypotheses": "Next hypotheses", "diag.root": "Root cause", "diag.affected": "Affected servers",
    "diag.onset": "Estimated onset", "diag.metrics": "Metrics that moved, earliest first", "diag.nometrics": "No metric move settled yet.",
    "diag.logs": "Log lines", "diag.nologs": "No log line points to it.", "diag.attempts": "Recovery attempts",
    "diag.noattempts": "No automatic recovery: an operator is needed.", "diag.from": "from {time}", "diag.unsettled": "onset not settled yet",
    "attempt.planned": "planned", "attempt.running": "in progress", "attempt.recovered": "worked", "attempt.recovery_failed": "did not help",
    "incidents.show": "Show in topology", "topology.focus": "Highlighted: {type} on {server} ({n} servers affected).",
    "topology.all": "Show every open incident",
    "istatus.injected": "injected (not detected yet)", "istatus.active": "active", "istatus.recovering": "recovering",
    "istatus.recovered": "recovered", "istatus.escalated": "escalated", "istatus.resolved": "resolved",
    "truth.title": "Simulator ground truth (demo)",
    "truth.note": "What the simulator really did behind this incident. The engine never sees it; it is shown for the demo and the evaluation only.",
    "truth.item": "{type} on {targets}, from bucket {bucket}", "truth.injected": "injected by an operator", "truth.scheduled": "scheduled by the simulation",
  },
  ko: {
    skip: "본문으로 건너뛰기", views: "화면", lang: "언어", theme: "테마",
    "theme.system": "시스템", "theme.light": "라이트", "theme.dark": "다크",
    "nav.overview": "개요", "nav.servers": "서버", "nav.topology": "토폴로지", "nav.incidents": "장애",
    "live.connecting": "연결 중", "live.live": "실시간", "live.polling": "실시간 (폴링)",
    "live.reconnecting": "재연결 중", "live.stale": "지연됨", "live.replay": "재생",
    "replay.label": "시간", "replay.hour": "−1시간", "replay.live": "실시간",
    "replay.now": "실시간: 지금", "replay.at": "재생: {time} ({ago}분 전)",
    "overview.title": "전체 현황", "overview.health": "전체 건강도",
    "overview.incidents": "진행 중인 장애", "overview.alerts": "열린 알림",
    "status.healthy": "정상", "status.warning": "경고", "status.critical": "심각", "status.offline": "오프라인",
    "sla.title": "SLA (24시간)", "sla.availability": "가용성", "sla.target": "목표",
    "sla.budget": "남은 오류 예산", "sla.mtta": "평균 확인 시간", "sla.mttr": "평균 복구 시간", "sla.mttd": "평균 탐지 시간",
    "sla.met": "달성", "sla.missed": "미달", "sla.none": "표본 없음",
    "heat.title": "리전 × 역할", "heat.cell": "{region}, {role}: 서버 {n}대, 평균 건강도 {health}",
    "servers.title": "서버", "filter.search": "검색", "filter.role": "역할", "filter.region": "리전",
    "filter.status": "상태", "filter.sort": "정렬", "filter.all": "전체",
    "sort.id": "이름", "sort.status": "상태 (나쁜 순)", "sort.health": "건강도 (낮은 순)",
    "sort.cpu": "CPU (높은 순)", "sort.memory": "메모리 (높은 순)",
    "grid.count": "서버 {total}대 중 {shown}대", "card.alerts": "열린 알림 {n}건", "card.health": "건강도",
    "metric.cpu": "CPU", "metric.mem": "메모리", "metric.disk": "디스크",
    "topology.title": "토폴로지",
    "topology.legend": "리전별 로드밸런서 → 웹 → API → 데이터베이스·캐시·큐. 굵은 테두리는 장애의 근본 원인, 점선 테두리는 영향을 받은 서버입니다.",
    "topology.region": "리전 {region}",
    "incidents.title": "장애와 알림", "incidents.timeline": "장애 타임라인",
    "incidents.none": "장애가 없습니다.", "incidents.resolve": "해결",
   
    "alerts.feed": "알림 피드", "alerts.none": "알림이 없습니다.", "alerts.ack": "확인",
    "alerts.acked": "{by} 확인",
    "inject.title": "장애 주입", "inject.type": "유형", "inject.duration": "지속 시간 (초)",
    "inject.targets": "대상", "inject.submit": "주입", "inject.done": "{servers}에 {id} 주입됨.",
    "inject.pick": "대상을 하나 이상 고르세요.",
    "detail.back": "← 전체 서버", "detail.metric": "지표", "detail.range": "기간",
    "range.15m": "15분", "range.1h": "1시간", "range.24h": "24시간", "card.spark": "CPU 추이",
    "detail.metrics": "현재 지표", "detail.alerts": "열린 알림", "detail.topology": "토폴로지에서의 위치",
    "detail.logs": "로그", "detail.level": "수준", "detail.processes": "프로세스",
    "detail.depends": "의존 대상: ", "detail.dependents": "사용하는 서버: ", "detail.nothing": "없음",
    "detail.notfound": "{id} 서버가 없습니다.",
    "col.metric": "지표", "col.value": "값", "col.baseline": "기준선", "col.warning": "경고",
    "col.critical": "심각", "col.level": "수준", "col.pid": "PID", "col.name": "이름", "col.user": "사용자",
    "col.cpu": "CPU %", "col.mem": "메모리 %",
    "chart.empty": "지표 차트", "chart.value": "값", "chart.warning": "경고 구간", "chart.critical": "심각 구간",
    "chart.label": "{server}의 {metric}, {range}",
    "ai.open": "AI에게 묻기", "ai.title": "AI 어시스턴트", "ai.question": "질문", "ai.ask": "묻기",
    "ai.thinking": "생각하는 중 ({n}단계)", "ai.unavailable": "어시스턴트를 사용할 수 없습니다: {message}",
    "ai.suggest": ["지금 가장 느린 서버는?", "데이터베이스가 왜 느려?", "오늘 장애를 요약해 줘."],
    "notify.open": "알림 설정", "notify.title": "알림 설정", "notify.level": "최소 수준",
    "notify.enable": "켜기", "notify.disable": "끄기", "notify.test": "테스트 보내기",
    "notify.unsupported": "이 환경에서는 웹 푸시를 쓸 수 없습니다.", "notify.on": "푸시 알림이 켜져 있습니다.",
    "notify.off": "푸시 알림이 꺼져 있습니다.", "notify.sent": "테스트를 보냈습니다.",
    "login.open": "로그인", "login.out": "로그아웃 ({name})", "login.title": "로그인",
    "login.username": "사용자 이름", "login.password": "비밀번호", "login.totp": "일회용 코드 (설정된 경우)",
    "login.submit": "로그인", "login.needed": "운영자로 로그인해야 합니다.",
    "close": "닫기", "cancel": "취소", "error": "오류: {message}",
    "toast.alert": "{level}: {server} {metric}",
    "level.info": "정보", "level.warning": "경고", "level.error": "오류", "level.critical": "심각",
    "astate.pending": "대기", "astate.firing": "발생 중", "astate.acknowledged": "확인됨", "astate.resolved": "해소됨",
    "strategy.restart_service": "서비스 재시작", "strategy.scale_up": "자원 증설", "strategy.cleanup_logs": "로그 정리",
    "strategy.switch_backup_network": "백업 네트워크로 전환", "strategy.failover": "복제본으로 페일오버",
    "strategy.circuit_breaker": "서킷 브레이커 열기", "strategy.rollback_config": "설정 롤백",
    "strategy.reroute_traffic": "트래픽 우회", "strategy.purge_cdn": "CDN 퍼지", "strategy.flush_dns": "DNS 캐시 비우기",
    "strategy.isolate_and_rotate_credentials": "격리와 자격 증명 교체",
    "type.cpu_overload": "CPU 과부하", "type.memory_leak": "메모리 누수", "type.disk_full": "디스크 가득 참",
    "type.network_failure": "네트워크 장애", "type.application_crash": "애플리케이션 중단",
    "type.database_timeout": "데이터베이스 타임아웃", "type.api_failure": "API 장애", "type.config_error": "설정 오류",
    "type.load_balancer_down": "로드밸런서 중단", "type.cdn_failure": "CDN 장애",
    "type.dns_resolution_failure": "DNS 해석 실패", "type.security_breach": "보안 침해",
    "type.unknown": "유형 미확정",
    "event.injected": "주입됨", "event.started": "이상 시작", "event.detected": "탐지·진단",
    "event.joined": "확산", "event.revised": "진단 수정", "event.reopened": "재발, 다시 엶", "event.recovery_started": "복구 시도", "event.recovered": "복구됨",
    "event.recovery_failed": "복구 효과 없음", "event.escalated": "에스컬레이션", "event.closed": "종료",
    "diag.title": "진단", "diag.pending": "아직 진단되지 않음: 엔진이 탐지하기 전입니다.",
    "diag.confidence": "신뢰도 {value}", "diag.unknown": "알려진 어떤 장애와도 맞지 않는 이상: 운영자 확인이 필요합니다.",
    "diag.hypotheses": "다음 가설", "diag.root": "근본 원인", "diag.affected": "영향 받은 서버",
    "diag.onset": "추정 시작 시각", "diag.metrics": "변한 지표 (이른 순)", "diag.nometrics": "아직 확정된 지표 변화가 없습니다.",
    "diag.logs": "근거 로그", "diag.nologs": "관련 로그가 없습니다.", "diag.attempts": "복구 시도",
    "diag.noattempts": "자동 복구 없음: 운영자가 필요합니다.", "diag.from": "{time}부터", "diag.unsettled": "시작 시점 미확정",
    "attempt.planned": "예정", "attempt.running": "진행 중", "attempt.recovered": "성공", "attempt.recovery_failed": "효과 없음",
    "incidents.show": "토폴로지에서 보기", "topology.focus": "강조 표시: {server}의 {type} (영향 서버 {n}대).",
    "topology.all": "진행 중인 장애 모두 보기",
    "istatus.injected": "주입됨 (탐지 전)", "istatus.active": "진행 중", "istatus.recovering": "복구 중",
    "istatus.recovered": "복구됨", "istatus.escalated": "에스컬레이션됨", "istatus.resolved": "해결됨",
    "truth.title": "시뮬레이터 정답 (데모)",
    "truth.note": "이 장애 뒤에서 시뮬레이터가 실제로 일으킨 일입니다. 엔진은 이 정보를 보지 않으며, 데모와 평가용으로만 표시합니다.",
    "truth.item": "{targets}의 {type}, 버킷 {bucket}부터", "truth.injected": "운영자가 주입", "truth.scheduled": "시뮬레이션이 발생",
  },
};

const KEY = "om.lang";
const listeners = new Set();
export let lang = pickLanguage();

function pickLanguage() {
  const saved = localStorage.getItem(KEY);
  if (saved === "ko" || saved === "en") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

/** The text for ``key`` in the current language, with ``{name}`` filled from ``vars``. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  if (typeof text !== "string") return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** A bilingual API text ({en, ko}) in the current language. */
export function pick(text) {
  if (text == null) return "";
  return typeof text === "string" ? text : (text[lang] ?? text.en ?? "");
}

/** ``t(`${prefix}.${name}`)``, or ``name`` itself when no table has it. */
export function label(prefix, name) {
  const key = `${prefix}.${name}`;
  const text = t(key);
  return text === key ? name : text;
}

export function onLanguage(fn) { listeners.add(fn); }

export function setLanguage(next) {
  lang = next === "ko" ? "ko" : "en";
  localStorage.setItem(KEY, lang);
  applyStatic();
  for (const fn of listeners) fn(lang);
}

/** Fill every element marked ``data-i18n`` (text) or ``data-i18n-aria`` (aria-label). */
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

export function formatTime(iso) {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  return date.toLocaleString(lang === "ko" ? "ko-KR" : "en-GB", { hour12: false });
}

/** Clock time (and the date when ``withDate``) of a Unix time in seconds, for chart axes. */
export function formatClock(seconds, withDate = false) {
  const options = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) Object.assign(options, { month: "numeric", day: "numeric" });
  return new Date(seconds * 1000).toLocaleString(lang === "ko" ? "ko-KR" : "en-GB", options);
}

export function formatNumber(value, digits = 1) {
  if (value == null || Number.isNaN(value)) return "–";
  return value.toLocaleString(lang === "ko" ? "ko-KR" : "en-GB", { maximumFractionDigits: digits });
}
