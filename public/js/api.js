// The API client: same-origin fetch, the session's CSRF token on mutations, errors as ApiError.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let csrf = sessionStorage.getItem("om.csrf");

export function setCsrf(token) {
  csrf = token;
  if (token) sessionStorage.setItem("om.csrf", token);
  else sessionStorage.removeItem("om.csrf");
}

/** The CSRF token for a mutation sent outside ``api`` (the AI sidebar's stream). */
export function getCsrf() {
  return csrf ?? csrfFromCookie();
}

function csrfFromCookie() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("om_csrf="));
  return found ? decodeURIComponent(found.slice(8)) : null;
}

/** ``api("/fleet", {query: {limit: 500}})`` → parsed JSON; throws ``ApiError``. */
export async function api(path, { method = "GET", body, query, signal } = {}) {
  const url = new URL(`/api${path}`, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value != null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    const token = getCsrf();
    if (token) headers["X-CSRF-Token"] = token;
  }
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? "http_error", error.message ?? response.statusText, error.details);
  }
  return data;
}

/** Every server of ``/api/fleet`` (pages of 500), with the first page's envelope; ``first``
 * when that page is already at hand. */
export async function fleetAll(query = {}, first = null) {
  first ??= await api("/fleet", { query: { ...query, limit: 500 } });
  const rest = [];
  for (let page = 2; page <= first.pages; page += 1) {
    rest.push(api("/fleet", { query: { ...query, limit: 500, page } }));
  }
  for (const next of await Promise.all(rest)) first.servers.push(...next.servers);
  return first;
}
