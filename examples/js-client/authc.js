// authc.js — a dependency-free browser client for authc (and any Auth.js
// server): signIn, signOut, getSession, update and session-change events.
//
// It speaks the same HTTP as next-auth/react (see docs/guide-js.md) and uses
// the same BroadcastChannel ("next-auth") and messages, so tabs running this
// script and tabs running next-auth/react keep each other in sync.
//
//   <script type="module">
//     import * as authc from "/authc.js";
//     authc.onSessionChange(({ status, session }) => render(status, session));
//     await authc.signIn("credentials", { username, password, redirect: false });
//   </script>

const config = { basePath: "/auth" };
const state = { session: undefined, lastSync: 0, listeners: new Set(), watching: null };
let channel = null;

// Where the Auth.js routes live (default "/auth"; Next.js apps use "/api/auth").
export function configure({ basePath } = {}) {
  if (basePath) config.basePath = basePath.replace(/\/+$/, "");
}

function bc() {
  if (!channel) channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("next-auth") : null;
  return channel;
}

function broadcast(trigger) {
  // Posted on the shared channel object, which does not hear its own
  // messages: only the other tabs refresh.
  bc()?.postMessage({ event: "session", data: { trigger } });
}

// GET (or JSON POST with body) <basePath>/<path>; null on any failure.
async function fetchData(path, body) {
  try {
    const init = { headers: { "Content-Type": "application/json" }, credentials: "same-origin" };
    if (body) { init.method = "POST"; init.body = JSON.stringify(body); }
    const res = await fetch(`${config.basePath}/${path}`, init);
    const data = await res.json();
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return data;
  } catch (e) {
    console.error("[authc]", e);
    return null;
  }
}

export const getProviders = () => fetchData("providers");
export async function getCsrfToken() {
  return (await fetchData("csrf"))?.csrfToken ?? "";
}

// The current session, or null. Tells other tabs to refresh (broadcast:false to not).
export async function getSession({ broadcast: tell = true } = {}) {
  const s = await fetchData("session");
  if (tell) broadcast("getSession");
  return s;
}

async function postForm(url, fields) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1" },
    body: new URLSearchParams(fields),
  });
  return { res, data: await res.json().catch(() => ({})) };
}

function go(url) {
  window.location.href = url;
  if (url.includes("#")) window.location.reload();
}

// signIn(provider?, {redirectTo?|callbackUrl?, redirect = true, ...fields}, authorizationParams?)
// Without redirect: resolves to {ok, status, error, code, url}.
export async function signIn(provider, options = {}, authorizationParams = {}) {
  const { callbackUrl, redirect = true, redirectTo = callbackUrl ?? window.location.href, ...fields } = options;
  const providers = await getProviders();
  if (!providers) return go(`${config.basePath}/error`);
  if (!provider || !providers[provider])
    return go(`${config.basePath}/signin?${new URLSearchParams({ callbackUrl: redirectTo })}`);
  const type = providers[provider].type;
  if (type === "webauthn") throw new TypeError(`"${provider}" is a passkey provider: use the built-in sign-in page`);
  const action = type === "credentials" ? "callback" : "signin";
  const url = `${config.basePath}/${action}/${encodeURIComponent(provider)}?${new URLSearchParams(authorizationParams)}`;
  const { res, data } = await postForm(url, { ...fields, csrfToken: await getCsrfToken(), callbackUrl: redirectTo });
  if (redirect) return go(data.url ?? redirectTo);
  const u = data.url ? new URL(data.url, window.location.href) : null;
  const error = u?.searchParams.get("error") ?? undefined;
  if (res.ok) await refresh({ tell: true });
  return { ok: res.ok && !error, status: res.status, error, code: u?.searchParams.get("code") ?? undefined, url: error ? null : data.url };
}

// signOut({redirectTo?|callbackUrl?, redirect = true}); without redirect resolves to {url}.
export async function signOut(options = {}) {
  const { redirect = true, redirectTo = options.callbackUrl ?? window.location.href } = options;
  const { data } = await postForm(`${config.basePath}/signout`, { csrfToken: await getCsrfToken(), callbackUrl: redirectTo });
  broadcast("signout");
  if (redirect) return go(data.url ?? redirectTo);
  await refresh({ tell: false });
  return data;
}

// update() re-reads the session; update(data) posts it (the server's jwt /
// session callbacks decide what changes). Resolves to the new session.
export async function update(data) {
  const s = data === undefined ? await fetchData("session") : await fetchData("session", { csrfToken: await getCsrfToken(), data });
  if (s) { set(s); broadcast("getSession"); }
  return s;
}

function emit() {
  const status = state.session === undefined ? "loading" : state.session ? "authenticated" : "unauthenticated";
  for (const fn of state.listeners) {
    try { fn({ status, session: state.session ?? null }); } catch (e) { console.error("[authc] listener", e); }
  }
}

function set(s) {
  const changed = JSON.stringify(s) !== JSON.stringify(state.session);
  state.session = s;
  if (changed) emit();
}

async function refresh({ tell }) {
  state.lastSync = Date.now();
  set(await getSession({ broadcast: tell }));
}

// Calls fn({status, session}) now and whenever the session changes: other
// tabs (BroadcastChannel), refetch when the tab becomes visible, and polling
// every refetchInterval seconds while signed in. Returns an unsubscribe function.
export function onSessionChange(fn, { refetchInterval = 0, refetchOnWindowFocus = true } = {}) {
  state.listeners.add(fn);
  fn({ status: state.session === undefined ? "loading" : state.session ? "authenticated" : "unauthenticated", session: state.session ?? null });
  if (!state.watching) {
    const onMessage = () => refresh({ tell: false });
    const onVisible = () => { if (refetchOnWindowFocus && document.visibilityState === "visible" && state.session) refresh({ tell: true }); };
    const timer = refetchInterval > 0 ? setInterval(() => { if (state.session) refresh({ tell: true }); }, refetchInterval * 1000) : null;
    bc()?.addEventListener("message", onMessage);
    document.addEventListener("visibilitychange", onVisible);
    state.watching = () => {
      bc()?.removeEventListener("message", onMessage);
      document.removeEventListener("visibilitychange", onVisible);
      if (timer) clearInterval(timer);
      state.watching = null;
    };
    if (state.session === undefined) refresh({ tell: false });
  }
  return () => {
    state.listeners.delete(fn);
    if (!state.listeners.size && state.watching) state.watching();
  };
}

if (typeof window !== "undefined" && !window.authc)
  window.authc = { configure, getProviders, getCsrfToken, getSession, signIn, signOut, update, onSessionChange };
