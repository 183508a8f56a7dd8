// handlers.js — the GET/POST route handlers of app/api/auth/[...nextauth]:
// every request under the base path is passed to authc and its answer back.
import { appOrigin, boundedBody, call, forwarded, resolve } from "./upstream.js";

// Hop-by-hop headers (RFC 9110 §7.6.1) and what fetch computes itself.
const DROP_REQUEST = new Set(["host", "connection", "keep-alive", "proxy-connection", "proxy-authorization",
  "te", "trailer", "transfer-encoding", "upgrade", "content-length", "accept-encoding", "expect",
  "x-forwarded-host", "x-forwarded-proto", "x-middleware-subrequest"]);
// fetch hands back a decoded body, so its encoding and length no longer hold.
const DROP_RESPONSE = new Set(["connection", "keep-alive", "transfer-encoding", "content-encoding",
  "content-length", "set-cookie"]);

const problem = (status, message) => Response.json({ message }, { status });

/** Returns {GET, POST}: each proxies its request to authc and resolves to authc's answer. */
export function makeHandlers(config) {
  async function handler(req) {
    let s;
    try {
      s = resolve(config);
    } catch (e) {
      console.error(e.message);
      return problem(500, "There is a problem with the server configuration. Check the server logs for more information.");
    }
    const url = new URL(req.url);
    if (url.pathname !== s.basePath && !url.pathname.startsWith(s.basePath + "/"))
      return problem(404, `@authc/next only answers under ${s.basePath}`);
    const headers = new Headers();
    for (const [k, v] of req.headers) if (!DROP_REQUEST.has(k)) headers.set(k, v);
    const app = appOrigin(req.headers, req.url);
    let body;
    if (req.method !== "GET" && req.method !== "HEAD") {
      body = await boundedBody(req);
      if (body === null) return problem(413, "request body too large");
    }
    let res;
    try {
      res = await call(s, url.pathname + url.search, { method: req.method, headers: forwarded(app, headers), body });
    } catch (e) {
      console.error(e.message);
      return problem(502, "authc did not answer");
    }
    const out = new Headers();
    for (const [k, v] of res.headers) if (!DROP_RESPONSE.has(k)) out.set(k, v);
    for (const c of res.headers.getSetCookie()) out.append("set-cookie", c);
    const empty = req.method === "HEAD" || res.status === 204 || res.status === 304;
    return new Response(empty ? null : res.body, { status: res.status, statusText: res.statusText, headers: out });
  }
  return { GET: handler, POST: handler };
}
