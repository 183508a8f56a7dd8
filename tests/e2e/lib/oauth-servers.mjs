// oauth-servers.mjs — identity providers for the OAuth/OIDC e2e tests: a real
// OpenID Provider (npm oidc-provider) behind a thin loopback front that can
// swap the provider instance (key rotation) and rewrite token responses
// (wrong nonce, expired id_token); a GitHub look-alike; a never-answering IdP;
// and a small browser (cookie jar, redirects, HTML form submission).
import http from "node:http";
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import Provider from "oidc-provider";
import { freePort } from "./server.mjs";

// ------------------------------------------------------------------ keys

const b64json = (seg) => JSON.parse(Buffer.from(seg, "base64url").toString("utf8"));
// The header / claims of a compact JWS (not verified).
export const jwsHeader = (jws) => b64json(jws.split(".")[0]);
export const jwsClaims = (jws) => b64json(jws.split(".")[1]);

// Signs claims as an RS256 compact JWS with the given private JWK.
export function signRs256(privateJwk, header, claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${enc(header)}.${enc(claims)}`;
  const sig = sign("sha256", Buffer.from(input), createPrivateKey({ key: privateJwk, format: "jwk" }));
  return `${input}.${sig.toString("base64url")}`;
}

// A fresh RS256 signing key as {privateJwk, kid}.
export function newSigningKey(kid = `k-${randomUUID().slice(0, 8)}`) {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  return { kid, privateJwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
}

// ------------------------------------------------------------- HTTP front

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server.address().port));
  });
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

// Starts the front of an OpenID Provider at http://127.0.0.1:<port>. The
// provider itself (oidc-provider) runs on another loopback port and is
// created by setProvider() once the client's redirect URI is known; every
// request is forwarded with its Host header, so the provider believes it
// lives at the front's address (the issuer).
//   front.setProvider({redirectUris, keys:[{privateJwk}], clientId, clientSecret})
//   front.rewriteToken = async (json, resign) => json   // token responses
//   front.hits = {discovery, jwks, token}
export async function startOidcFront() {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  let backendPort = null;
  let backend = null; // {server, provider}
  const front = {
    issuer,
    port,
    hits: { discovery: 0, jwks: 0, token: 0, authorize: 0 },
    rewriteToken: null,
    signingKey: null,
    // client / options: extra client metadata and provider options
    // (refresh tokens, RP-initiated logout), merged over the defaults.
    async setProvider({ redirectUris, keys, clientId, clientSecret, idTokenTtl = 3600, client = {}, options = {} }) {
      const provider = new Provider(issuer, {
        clients: [{
          client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris,
          response_types: ["code"], grant_types: ["authorization_code"],
          token_endpoint_auth_method: "client_secret_basic", ...client,
        }],
        jwks: { keys: keys.map((k) => k.privateJwk) },
        claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
        findAccount: async (ctx, sub) => ({
          accountId: sub,
          claims: async () => ({ sub, name: `User ${sub}`, email: `${sub}@idp.example`, email_verified: true }),
        }),
        features: { devInteractions: { enabled: true } },
        conformIdTokenClaims: false, // name/email in the ID token, where Auth.js reads them
        pkce: { required: () => true },
        ttl: { IdToken: idTokenTtl, AccessToken: 3600, Grant: 3600, Session: 3600, Interaction: 600 },
        cookies: { keys: ["oauth-e2e-cookie-key-0123456789abcdef"] },
        renderError: async (ctx, out) => { ctx.type = "json"; ctx.body = out; },
        ...options,
      });
      const server = http.createServer(provider.callback());
      const p = await listen(server);
      const old = backend;
      backend = { server, provider };
      backendPort = p;
      front.signingKey = keys[0];
      front.provider = provider; // e.g. Client.find(id).backchannelLogout(sub, sid)
      if (old) await closeServer(old.server);
    },
    async stop() {
      if (backend) await closeServer(backend.server);
      await closeServer(server);
    },
  };

  // Re-signs an id_token with changed claims (same key and kid).
  async function resign(idToken, patch) {
    const hdr = jwsHeader(idToken);
    if (hdr.alg !== "RS256") throw new Error(`cannot re-sign ${hdr.alg}`);
    return signRs256(front.signingKey.privateJwk, hdr, { ...jwsClaims(idToken), ...patch });
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === "/.well-known/openid-configuration") front.hits.discovery++;
    if (url.pathname === "/jwks") front.hits.jwks++;
    if (url.pathname === "/token") front.hits.token++;
    if (url.pathname === "/auth") front.hits.authorize++;
    if (!backendPort) {
      res.writeHead(503).end();
      return;
    }
    const body = await readBody(req);
    const up = http.request({ host: "127.0.0.1", port: backendPort, method: req.method, path: req.url, headers: req.headers }, async (ur) => {
      const chunks = [];
      ur.on("data", (c) => chunks.push(c));
      ur.on("end", async () => {
        let out = Buffer.concat(chunks);
        const headers = { ...ur.headers };
        if (url.pathname === "/token" && front.rewriteToken && ur.statusCode === 200) {
          const json = await front.rewriteToken(JSON.parse(out.toString("utf8")), resign);
          out = Buffer.from(JSON.stringify(json));
          headers["content-length"] = String(out.length);
        }
        res.writeHead(ur.statusCode, headers);
        res.end(out);
      });
    });
    up.on("error", () => { res.writeHead(502).end(); });
    up.end(body);
  });
  await listen(server, port);
  return front;
}

// --------------------------------------------------------------- GitHub

// A loopback stand-in for GitHub (github.com and its REST API under
// <base>/api/v3, the GitHub Enterprise Server layout), answering with the
// response shapes GitHub documents:
//  - GET  /login/oauth/authorize → 302 to redirect_uri?code&state
//    (docs.github.com "Authorizing OAuth apps", step 1 and 2);
//  - POST /login/oauth/access_token → form-encoded
//    "access_token=…&scope=…&token_type=bearer" by default, JSON
//    {"access_token","scope","token_type"} with Accept: application/json
//    (same page, step 2 "Response");
//  - GET  /api/v3/user → the "Get the authenticated user" shape (id, login,
//    name, email null when the email is private, avatar_url, …);
//  - GET  /api/v3/user/emails → "List email addresses for the authenticated
//    user": [{email, primary, verified, visibility}] with the primary one
//    private.
// mock.alwaysForm = true forces the form answer even when JSON was asked for.
export async function startGithubMock({ clientId, clientSecret } = {}) {
  const mock = { alwaysForm: false };
  const codes = new Map(); // code → {redirect_uri, code_challenge}
  const tokens = new Set();
  const seen = { token: [], user: [], emails: [], authorize: [] };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const json = (status, obj) => { res.writeHead(status, { "content-type": "application/json; charset=utf-8" }); res.end(JSON.stringify(obj)); };
    if (url.pathname === "/login/oauth/authorize" && req.method === "GET") {
      const q = Object.fromEntries(url.searchParams);
      seen.authorize.push(q);
      if (q.client_id !== clientId) return json(404, { error: "unknown client" });
      const code = randomUUID().replace(/-/g, "").slice(0, 20);
      codes.set(code, { redirect_uri: q.redirect_uri, code_challenge: q.code_challenge, method: q.code_challenge_method });
      const to = new URL(q.redirect_uri);
      to.searchParams.set("code", code);
      if (q.state) to.searchParams.set("state", q.state);
      res.writeHead(302, { location: to.toString() });
      return res.end();
    }
    if (url.pathname === "/login/oauth/access_token" && req.method === "POST") {
      const body = new URLSearchParams((await readBody(req)).toString("utf8"));
      const auth = req.headers.authorization || "";
      seen.token.push({ headers: req.headers, body: Object.fromEntries(body) });
      // client_secret_basic with the RFC 6749 form encoding of id and secret.
      const [id, secret] = Buffer.from(auth.replace(/^Basic /, ""), "base64").toString("utf8").split(":")
        .map((s) => decodeURIComponent((s || "").replace(/\+/g, " ")));
      const wantsJson = /application\/json/.test(req.headers.accept || "") && !mock.alwaysForm;
      const reply = (obj) => {
        if (wantsJson) return json(200, obj);
        res.writeHead(200, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
        res.end(new URLSearchParams(obj).toString());
      };
      // GitHub answers errors with 200 and an error field.
      if (id !== clientId || secret !== clientSecret) return reply({ error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." });
      const c = codes.get(body.get("code"));
      codes.delete(body.get("code"));
      if (!c || c.redirect_uri !== body.get("redirect_uri")) return reply({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
      if (c.code_challenge) {
        const { createHash } = await import("node:crypto");
        const v = body.get("code_verifier") || "";
        if (createHash("sha256").update(v).digest("base64url") !== c.code_challenge) return reply({ error: "invalid_grant", error_description: "PKCE verification failed" });
      }
      const tok = "gho_" + randomUUID().replace(/-/g, "");
      tokens.add(tok);
      return reply({ access_token: tok, scope: "read:user,user:email", token_type: "bearer" });
    }
    const bearer = (req.headers.authorization || "").replace(/^Bearer /, "");
    if (url.pathname === "/api/v3/user") {
      seen.user.push(req.headers);
      if (!tokens.has(bearer)) return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      return json(200, {
        login: "octocat", id: 583231, node_id: "MDQ6VXNlcjU4MzIzMQ==", avatar_url: "https://avatars.githubusercontent.com/u/583231?v=4",
        html_url: "https://github.com/octocat", type: "User", site_admin: false, name: "The Octocat", company: "@github",
        blog: "https://github.blog", location: "San Francisco", email: null, hireable: null, bio: null,
        public_repos: 8, followers: 4000, following: 9, created_at: "2011-01-25T18:44:36Z", updated_at: "2024-01-22T12:00:00Z",
      });
    }
    if (url.pathname === "/api/v3/user/emails") {
      seen.emails.push(req.headers);
      if (!tokens.has(bearer)) return json(401, { message: "Bad credentials" });
      return json(200, [
        { email: "octocat@users.noreply.github.com", primary: false, verified: true, visibility: null },
        { email: "Octocat@GitHub.example", primary: true, verified: true, visibility: "private" },
      ]);
    }
    json(404, { message: "Not Found" });
  });
  const port = await listen(server);
  return Object.assign(mock, { base: `http://127.0.0.1:${port}`, seen, stop: () => closeServer(server) });
}

// An "IdP" whose every endpoint accepts the connection and then says
// nothing for holdMs (then 500). Counts requests.
export async function startHangingIdp(holdMs) {
  const pending = new Set();
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    const t = setTimeout(() => { pending.delete(t); res.writeHead(500).end(); }, holdMs);
    pending.add(t);
  });
  const port = await listen(server);
  return {
    base: `http://127.0.0.1:${port}`,
    hits: () => hits,
    async stop() { for (const t of pending) clearTimeout(t); await closeServer(server); },
  };
}

// Starts a GitHub sign-in (AUTHC_GITHUB_BASE_URL = idp.base) whose callback
// then waits on the hanging provider's token endpoint; resolves, once the
// provider holds it, to {inflight} (the callback's pending response).
export async function callbackInFlight(srv, idp) {
  const b = new Browser();
  const csrf = JSON.parse((await b.request(srv.url("/csrf"))).text).csrfToken;
  const r = await b.request(srv.url("/signin/github"), { method: "POST", form: { csrfToken: csrf } });
  const state = new URL(r.location).searchParams.get("state");
  const before = idp.hits();
  const inflight = b.request(srv.url(`/callback/github?code=c&state=${encodeURIComponent(state)}`));
  for (let i = 0; i < 100 && idp.hits() === before; i++) await new Promise((res) => setTimeout(res, 20));
  return { inflight };
}

// ----------------------------------------------------------------- browser

// A small browser: one cookie store for 127.0.0.1 (cookies are not
// port-bound, as in browsers; Path is honoured), follows redirects, and can
// submit the first HTML form of a page with some fields filled in.
export class Browser {
  constructor() { this.cookies = new Map(); this.trace = []; }

  cookieHeader(url) {
    const path = new URL(url).pathname;
    const out = [];
    for (const c of this.cookies.values()) if (path.startsWith(c.path)) out.push(`${c.name}=${c.value}`);
    return out.join("; ");
  }

  store(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [nv, ...attrs] = sc.split(";").map((s) => s.trim());
      const i = nv.indexOf("=");
      const name = nv.slice(0, i), value = nv.slice(i + 1);
      let path = "/", gone = value === "";
      for (const a of attrs) {
        const [k, v] = a.split("=");
        if (/^path$/i.test(k)) path = v || "/";
        if (/^max-age$/i.test(k) && Number(v) <= 0) gone = true;
        if (/^expires$/i.test(k) && Date.parse(v) < Date.now()) gone = true;
      }
      const key = `${name};${path}`;
      if (gone) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  get(name) {
    for (const c of this.cookies.values()) if (c.name === name) return c.value;
    return undefined;
  }

  async request(url, { method = "GET", form, headers = {} } = {}) {
    const h = new Headers(headers);
    const ck = this.cookieHeader(url);
    if (ck) h.set("cookie", ck);
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h.set("content-type", "application/x-www-form-urlencoded");
    }
    const res = await fetch(url, { method, headers: h, body, redirect: "manual" });
    this.store(res);
    const text = await res.text();
    this.trace.push({ method, url, status: res.status, location: res.headers.get("location") });
    return { status: res.status, headers: res.headers, text, url, location: res.headers.get("location") };
  }

  // Follows redirects from url until stop(url) is true for the next URL to
  // visit (that URL is returned, not fetched) or a non-redirect answer.
  async follow(url, { method = "GET", form, stop = () => false, max = 20 } = {}) {
    let r = await this.request(url, { method, form });
    for (let i = 0; i < max && r.status >= 300 && r.status < 400 && r.location; i++) {
      const next = new URL(r.location, r.url).toString();
      if (stop(next)) return { ...r, next };
      r = await this.request(next);
    }
    return r;
  }

  // Parses the first <form> of an HTML page: {action, method, fields}.
  static form(html, baseUrl) {
    const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
    if (!m) return null;
    const attr = (s, n) => (new RegExp(`${n}="([^"]*)"`, "i").exec(s) || [])[1];
    const unescape = (s) => s?.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#x2F;/g, "/").replace(/&#39;/g, "'");
    const fields = {};
    for (const im of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      const name = attr(im[1], "name");
      if (name) fields[name] = unescape(attr(im[1], "value") ?? "");
    }
    return { action: new URL(unescape(attr(m[1], "action")) || baseUrl, baseUrl).toString(), method: (attr(m[1], "method") || "get").toUpperCase(), fields };
  }
}

// Drives oidc-provider's development login and consent pages from the
// authorization URL until the IdP redirects to `callbackPrefix`; returns
// that callback URL (not fetched).
export async function loginAtProvider(browser, authorizeUrl, login, callbackPrefix) {
  const stop = (u) => u.startsWith(callbackPrefix);
  let r = await browser.follow(authorizeUrl, { stop });
  for (let step = 0; step < 6; step++) {
    if (r.next) return r.next;
    const f = Browser.form(r.text, r.url);
    if (!f) throw new Error(`no form at ${r.url} (status ${r.status}): ${r.text.slice(0, 300)}`);
    const fields = { ...f.fields };
    if ("login" in fields) { fields.login = login; fields.password = "any password"; }
    r = await browser.follow(f.action, { method: f.method, form: fields, stop });
  }
  throw new Error("the provider never redirected back");
}

// Signs a new Browser in at srv through provider `provider` (oidc-provider's
// development pages, user `login`); asserts authc's 302 to callbackUrl.
export async function browserSignIn(srv, login, { provider = "oidc", callbackUrl = srv.origin + "/home" } = {}) {
  const br = new Browser();
  const csrf = JSON.parse((await br.request(srv.url("/csrf"))).text).csrfToken;
  const r = await br.request(srv.url(`/signin/${provider}`), { method: "POST", form: { csrfToken: csrf, callbackUrl } });
  if (r.status !== 302) throw new Error(`POST /signin/${provider} answered ${r.status}: ${r.text}`);
  const cb = await loginAtProvider(br, r.location, login, srv.url(`/callback/${provider}`));
  const done = await br.request(cb);
  if (done.status !== 302 || done.location !== callbackUrl) throw new Error(`callback answered ${done.status} to ${done.location}: ${done.text}`);
  return br;
}

// POST <base>/signout as next-auth/react's signOut() does (200 {url}).
export async function browserSignOut(br, srv, callbackUrl) {
  const csrf = JSON.parse((await br.request(srv.url("/csrf"))).text).csrfToken;
  return br.request(srv.url("/signout"), {
    method: "POST", form: { csrfToken: csrf, callbackUrl }, headers: { "X-Auth-Return-Redirect": "1" },
  });
}

// Drives oidc-provider's logout confirmation from its end_session URL until
// it redirects to `callbackPrefix`; returns that URL (not fetched).
export async function logoutAtProvider(browser, endSessionUrl, callbackPrefix) {
  const stop = (x) => x.startsWith(callbackPrefix);
  let p = await browser.follow(endSessionUrl, { stop });
  for (let i = 0; i < 3 && !p.next; i++) {
    const f = Browser.form(p.text, p.url);
    if (!f) throw new Error(`no form at ${p.url}: ${p.text.slice(0, 200)}`);
    p = await browser.follow(f.action, { method: f.method, form: { ...f.fields, logout: "yes" }, stop });
  }
  if (!p.next) throw new Error("the provider never sent the browser back");
  return p.next;
}
