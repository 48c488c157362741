// Sign-in for operator actions: password, and a TOTP code when the account has one.
import { api, setCsrf } from "./api.js";
import { t, onLanguage } from "./i18n.js";
import { state, changed } from "./state.js";

const dialog = document.getElementById("login");
const button = document.getElementById("login-open");
const error = document.getElementById("login-error");
let pendingAction = null;

function render() {
  button.textContent = state.user ? t("login.out", { name: state.user }) : t("login.open");
  document.body.dataset.role = state.role ?? "viewer";
  for (const el of document.querySelectorAll(".operator")) el.hidden = !isOperator();
}

export function isOperator() {
  return state.role === "operator" || state.role === "admin";
}

/** Run ``action`` now when signed in as an operator, or after signing in. */
export function asOperator(action) {
  if (isOperator()) return action();
  pendingAction = action;
  error.textContent = t("login.needed");
  dialog.showModal();
  return undefined;
}

async function whoAmI() {
  // Without a session cookie the answer is a 401 the console would log: do not ask.
  if (!document.cookie.includes("om_csrf=") && !sessionStorage.getItem("om.csrf")) {
    render();
    return;
  }
  try {
    const me = await api("/auth/me");
    state.role = me.role;
    state.user = me.name;
  } catch {
    state.role = null;
    state.user = null;
  }
  render();
  changed("auth");
}

async function submit(event) {
  event.preventDefault();
  error.textContent = "";
  const totp = document.getElementById("login-totp").value.trim();
  try {
    const session = await api("/auth/login", {
      method: "POST",
      body: {
        username: document.getElementById("login-user").value.trim(),
        password: document.getElementById("login-pass").value,
        ...(totp ? { totp } : {}),
      },
    });
    setCsrf(session.csrf_token);
    state.role = session.role;
    state.user = session.username;
    document.getElementById("login-pass").value = "";
    document.getElementById("login-totp").value = "";
    dialog.close();
    render();
    changed("auth");
    const action = pendingAction;
    pendingAction = null;
    if (action && isOperator()) action();
  } catch (e) {
    error.textContent = t("error", { message: e.message });
  }
}

async function logout() {
  await api("/auth/logout", { method: "POST" }).catch(() => null);
  setCsrf(null);
  state.role = null;
  state.user = null;
  render();
  changed("auth");
}

export function initAuth() {
  document.getElementById("login-form").addEventListener("submit", submit);
  document.getElementById("login-cancel").addEventListener("click", () => {
    pendingAction = null;
    dialog.close();
  });
  button.addEventListener("click", () => {
    if (state.user) logout();
    else {
      error.textContent = "";
      dialog.showModal();
    }
  });
  onLanguage(render);
  render();
  return whoAmI();
}
