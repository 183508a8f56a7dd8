// actions.js — signIn, signOut and unstable_update for server actions: as
// next-auth's, but the work is authc's (over HTTP, with its CSRF handled here).
import { headers as nextHeaders, cookies } from "next/headers";
import { redirect } from "next/navigation";
import { Configuration, errorFor } from "./errors.js";
import { appOrigin, call, forwarded, parseSetCookie, resolve, withCookies } from "./upstream.js";

/** The context of one action: settings, the app's origin and the browser's request headers. */
async function begin(config) {
  const h = new Headers(await nextHeaders());
  const s = resolve(config);
  return { h, s, app: appOrigin(h), cookie: h.get("cookie") ?? "", csrfToken: null, setCookies: [] };
}

/**
 * Adds authc's CSRF token to ctx, and the csrf cookie when authc issues a
 * fresh one (it then goes into the request cookies and, later, the browser).
 */
async function withCsrf(ctx) {
  const res = await call(ctx.s, `${ctx.s.basePath}/csrf`, { headers: forwarded(ctx.app, { cookie: ctx.cookie, accept: "application/json" }) });
  const body = res.ok ? await res.json().catch(() => null) : null;
  if (typeof body?.csrfToken !== "string") throw new Configuration(`@authc/next: authc's ${ctx.s.basePath}/csrf answered ${res.status}`);
  ctx.setCookies = res.headers.getSetCookie();
  ctx.cookie = withCookies(ctx.cookie, ctx.setCookies);
  ctx.csrfToken = body.csrfToken;
  return ctx;
}

/** POSTs body(csrfToken) to authc with the action's cookies; resolves to the Response. */
async function post(ctx, path, body, contentType) {
  await withCsrf(ctx);
  if (typeof body === "function") body = body(ctx.csrfToken);
  return call(ctx.s, ctx.s.basePath + path, {
    method: "POST",
    headers: forwarded(ctx.app, { cookie: ctx.cookie, "content-type": contentType }),
    body,
  });
}

/** Sets every cookie authc issued during the action (later lines win) on the action's response. */
async function keepCookies(lines) {
  const jar = await cookies();
  for (const line of lines) {
    const c = parseSetCookie(line);
    if (c) jar.set(c.name, c.value, c.options);
  }
}

/**
 * An error redirect of authc (its sign-in or error page with ?error=) as the
 * error next-auth would throw, or null for any other location.
 */
function errorOf(ctx, location) {
  let u;
  try { u = new URL(location, ctx.app?.origin ?? ctx.s.origin); } catch { return null; }
  const pages = [`${ctx.s.basePath}/signin`, `${ctx.s.basePath}/error`];
  const type = u.searchParams.get("error");
  if (!type || !pages.includes(u.pathname)) return null;
  return errorFor(type, u.searchParams.get("code"));
}

/** The browser-facing URL of one of authc's pages under the base path. */
function pageUrl(ctx, page) {
  return `${ctx.app ? ctx.app.origin : ctx.s.origin}${ctx.s.basePath}/${page}`;
}

/** Returns signIn(provider?, options?, authorizationParams?) with next-auth v5's behaviour. */
export function makeSignIn(config) {
  return async function signIn(provider, options = {}, authorizationParams) {
    const ctx = await begin(config);
    const { redirect: shouldRedirect = true, redirectTo, ...rest } =
      options instanceof FormData ? Object.fromEntries(options) : options;
    const callbackUrl = redirectTo?.toString() ?? ctx.h.get("Referer") ?? "/";
    const signInURL = new URL(pageUrl(ctx, "signin"));
    const toPage = () => {
      signInURL.searchParams.append("callbackUrl", callbackUrl);
      return signInURL.toString();
    };
    let target = null;
    if (provider) {
      const res = await call(ctx.s, `${ctx.s.basePath}/providers`, { headers: forwarded(ctx.app, { accept: "application/json" }) });
      const list = res.ok ? await res.json().catch(() => null) : null;
      if (!list || typeof list !== "object") throw new Configuration(`@authc/next: authc's ${ctx.s.basePath}/providers answered ${res.status}`);
      const p = Object.hasOwn(list, provider) ? list[provider] : null;
      if (p) {
        const route = p.type === "credentials" ? "callback" : "signin";
        const query = new URLSearchParams(authorizationParams).toString();
        const path = `/${route}/${encodeURIComponent(provider)}${query ? `?${query}` : ""}`;
        const fields = {};
        for (const [k, v] of Object.entries(rest)) fields[k] = String(v);
        const body = (csrfToken) => new URLSearchParams({ ...fields, callbackUrl, csrfToken });
        const answer = await post(ctx, path, body, "application/x-www-form-urlencoded");
        await answer.arrayBuffer().catch(() => {});
        const location = answer.headers.get("location");
        if (!location) throw new Configuration(`@authc/next: authc answered ${answer.status} to ${route}/${provider}`);
        const err = errorOf(ctx, location);
        if (err) throw err;
        await keepCookies([...ctx.setCookies, ...answer.headers.getSetCookie()]);
        target = location;
      }
    }
    target ??= toPage();
    if (shouldRedirect) redirect(target);
    return target;
  };
}

/** Returns signOut(options?) with next-auth v5's behaviour ({redirect} when redirect: false). */
export function makeSignOut(config) {
  return async function signOut(options) {
    const ctx = await begin(config);
    const callbackUrl = options?.redirectTo ?? ctx.h.get("Referer") ?? "/";
    const body = (csrfToken) => new URLSearchParams({ callbackUrl, csrfToken });
    const answer = await post(ctx, "/signout", body, "application/x-www-form-urlencoded");
    await answer.arrayBuffer().catch(() => {});
    const location = answer.headers.get("location");
    if (!location) throw new Configuration(`@authc/next: authc answered ${answer.status} to signout`);
    await keepCookies([...ctx.setCookies, ...answer.headers.getSetCookie()]);
    if (options?.redirect ?? true) redirect(location);
    return { redirect: location };
  };
}

/** Returns unstable_update(data): POST /session with {csrfToken, data}; resolves to the new session or null. */
export function makeUpdate(config) {
  return async function unstable_update(data) {
    const ctx = await begin(config);
    const answer = await post(ctx, "/session", (csrfToken) => JSON.stringify({ csrfToken, data }), "application/json");
    const session = answer.ok ? await answer.json().catch(() => null) : (await answer.arrayBuffer().catch(() => {}), null);
    await keepCookies([...ctx.setCookies, ...answer.headers.getSetCookie()]);
    return session && typeof session === "object" ? session : null;
  };
}
