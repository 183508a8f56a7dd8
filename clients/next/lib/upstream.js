// upstream.js — how @authc/next talks to authc: its origin from the config,
// the forwarded host of the app's request, Set-Cookie parsing, bounded bodies.
import { Configuration } from "./errors.js";

export const DEFAULT_BASE_PATH = "/api/auth";
export const MAX_BODY = 1 << 20; // bytes of a request body the handlers pass on

/**
 * Settings resolved at call time (never at import: `next build` imports
 * auth.ts without AUTHC_URL). Returns a new object owned by the caller;
 * throws Configuration when no usable authc origin is set.
 */
export function resolve(config) {
  const raw = config.url ?? process.env.AUTHC_URL;
  let origin;
  try {
    const u = new URL(raw);
    if (u.protocol === "http:" || u.protocol === "https:") origin = u.origin;
  } catch { /* reported below */ }
  if (!origin) throw new Configuration(`@authc/next: set AUTHC_URL (or AuthC({ url })) to authc's origin, e.g. http://127.0.0.1:3000 (got ${raw === undefined ? "nothing" : JSON.stringify(String(raw))})`);
  const basePath = (config.basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, "");
  return { origin, basePath, timeoutMs: config.timeoutMs ?? 30000 };
}

/**
 * Host and scheme the browser used, from the app's request headers (the
 * first of a list: the proxy nearest the browser); `url` is the fallback
 * for the scheme. Returns {host, proto, origin} or null without a host.
 */
export function appOrigin(h, url) {
  const first = (v) => v?.split(",")[0].trim() || null;
  const host = first(h.get("x-forwarded-host")) ?? first(h.get("host"));
  if (!host) return null;
  let proto = first(h.get("x-forwarded-proto"));
  if (!proto && url) proto = new URL(url).protocol.slice(0, -1);
  proto = proto === "https" ? "https" : "http";
  return { host, proto, origin: `${proto}://${host}` };
}

/** Headers for a request to authc: the given ones plus X-Forwarded-Host/Proto of the app. */
export function forwarded(app, init = {}) {
  const h = new Headers(init);
  if (app) {
    h.set("x-forwarded-host", app.host);
    h.set("x-forwarded-proto", app.proto);
  }
  return h;
}

/** fetch to authc that never follows redirects and is never cached by Next.js. */
export async function call(s, path, init = {}) {
  try {
    return await fetch(s.origin + path, {
      ...init, redirect: "manual", cache: "no-store", signal: AbortSignal.timeout(s.timeoutMs),
    });
  } catch (e) {
    throw new Configuration(`@authc/next: authc at ${s.origin} did not answer ${path.split("?")[0]}`, { cause: e });
  }
}

/**
 * One Set-Cookie line as {name, value, options} in the form Next.js's
 * cookies().set takes (value URL-decoded: Next.js encodes it again).
 * Returns null for a line without a name.
 */
export function parseSetCookie(line) {
  const [pair, ...attrs] = line.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return null;
  const name = pair.slice(0, eq).trim();
  let value = pair.slice(eq + 1).trim();
  try { value = decodeURIComponent(value); } catch { /* keep it as sent */ }
  const options = {};
  for (const a of attrs) {
    const i = a.indexOf("=");
    const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
    const v = i < 0 ? "" : a.slice(i + 1).trim();
    if (k === "path") options.path = v;
    else if (k === "domain") options.domain = v;
    else if (k === "max-age" && /^-?\d+$/.test(v)) options.maxAge = Number(v);
    else if (k === "expires" && !Number.isNaN(Date.parse(v))) options.expires = new Date(v);
    else if (k === "httponly") options.httpOnly = true;
    else if (k === "secure") options.secure = true;
    else if (k === "partitioned") options.partitioned = true;
    else if (k === "samesite" && /^(lax|strict|none)$/i.test(v)) options.sameSite = v.toLowerCase();
  }
  return { name, value, options };
}

/** The Cookie header `cookie` with the name=value pairs of `setCookies` put in (wire form). */
export function withCookies(cookie, setCookies) {
  const jar = new Map();
  for (const p of (cookie ?? "").split(";")) {
    const i = p.indexOf("=");
    if (i > 0) jar.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
  }
  for (const line of setCookies) {
    const pair = line.split(";")[0];
    const i = pair.indexOf("=");
    if (i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

/**
 * The body of `req`, at most MAX_BODY bytes. Returns an ArrayBuffer owned
 * by the caller, or null when the body is too large.
 */
export async function boundedBody(req) {
  const declared = Number(req.headers.get("content-length"));
  if (declared > MAX_BODY) return null;
  if (!req.body) return new ArrayBuffer(0);
  const reader = req.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out.buffer;
}
