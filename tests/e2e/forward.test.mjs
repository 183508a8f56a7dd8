// forward.test.mjs — forward-auth in redirect mode over plain HTTP against a
// real `authc serve`: the X-Forwarded-* headers Traefik's forwardAuth and
// Caddy's forward_auth send, the sign-in round trip back to the protected
// URL, rules, AUTHC_REDIRECT_ALLOWED_HOSTS, and the CLI around the rules.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { ALICE, client, parseSetCookie, runAuthc, startServer, assertRedirect } from "./lib/server.mjs";

// A browser navigation as the proxy passes it on.
const NAV = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "sec-fetch-mode": "navigate", "sec-fetch-dest": "document",
};

// What Traefik's forwardAuth sends for a request to proto://host/uri.
function traefik(url, method = "GET") {
  const u = new URL(url);
  return {
    "x-forwarded-method": method, "x-forwarded-proto": u.protocol.slice(0, -1),
    "x-forwarded-host": u.host, "x-forwarded-uri": u.pathname + u.search, "x-forwarded-for": "198.51.100.7",
  };
}
// Caddy's forward_auth: the same names (it also keeps the client's own headers).
const caddy = traefik;

// The proxy's question to authc, over node:http (fetch would replace
// sec-fetch-mode with "cors"). c: a client() whose cookie jar is sent.
// Returns {status, headers, cookies (parsed Set-Cookie), json()}.
function ask(srv, c, p, headers, method = "GET") {
  const h = { ...headers };
  const ck = c?.jar.header();
  if (ck) h.cookie = ck;
  return new Promise((resolve, reject) => {
    const req = http.request(srv.url(p), { method, headers: h }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({
        status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body),
        cookies: (res.headers["set-cookie"] || []).map(parseSetCookie),
      }));
    });
    req.on("error", reject);
    req.end();
  });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-forward-"));
const rules = path.join(tmp, "forward.rules");
writeFileSync(rules, [
  "bypass path=/public/ methods=GET,HEAD",
  "deny   path~=^/internal(/|$)",
  "authenticated path=/admin groups=admins",
].join("\n") + "\n");
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("forward-auth, redirect mode (Traefik / Caddy headers)", () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { AUTHC_FORWARD_RULES: rules } });
  });
  after(async () => { await srv?.stop(); });

  test("no session: a navigation is redirected to sign in, 302 for GET and 303 for POST", async () => {
    const c = client(srv);
    const target = "http://app.test/docs/page?a=1&b=2";
    let r = await ask(srv, c, "/forward", { ...traefik(target), ...NAV });
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.location);
    assert.equal(loc.origin + loc.pathname, "http://app.test/auth/signin");
    assert.equal(loc.searchParams.get("callbackUrl"), target);
    assert.equal(r.headers["cache-control"], "no-store");
    assert.deepEqual(r.cookies, []);
    r = await ask(srv, c, "/forward", { ...caddy(target, "POST"), ...NAV });
    assert.equal(r.status, 303);
    assert.deepEqual(r.cookies, []);
  });

  test("no session: XHR, fetch() and non-HTML requests get 401 SessionRequired", async () => {
    const c = client(srv);
    for (const h of [{ "x-requested-with": "XMLHttpRequest" }, { "sec-fetch-mode": "cors" },
      { "sec-fetch-dest": "image" }]) {
      const r = await ask(srv, c, "/forward", { ...traefik("http://app.test/api"), ...NAV, ...h });
      assert.equal(r.status, 401, JSON.stringify(h));
      assert.deepEqual(r.json(), { error: "SessionRequired" });
      assert.equal(r.headers.location, undefined);
      assert.deepEqual(r.cookies, []);
    }
    const r = await ask(srv, c, "/forward", { ...traefik("http://app.test/api"), accept: "application/json" });
    assert.equal(r.status, 401);
  });

  test("sign in from the redirect and come back to the protected URL", async () => {
    const c = client(srv);
    const target = "http://app.test/docs/page?a=1&b=2";
    // The browser follows the 302 through the proxy to authc's sign-in page.
    const r0 = await ask(srv, c, "/forward", { ...traefik(target), ...NAV });
    const signin = new URL(r0.headers.location);
    const proxy = { "x-forwarded-host": "app.test", "x-forwarded-proto": "http" };
    const page = await c(srv.origin + signin.pathname + signin.search, { headers: proxy });
    assert.equal(page.status, 200);
    const csrfToken = (await (await c("/csrf", { headers: proxy })).json()).csrfToken;
    const r = await c("/callback/credentials", {
      headers: proxy, form: { username: ALICE.username, password: ALICE.password, csrfToken },
    });
    assertRedirect(r, target);
    // Now the proxy's question is answered with the identity.
    const ok = await ask(srv, c, "/forward", { ...traefik(target), ...NAV });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["x-auth-request-email"], ALICE.email);
    assert.equal(ok.headers["x-auth-request-user"], ALICE.id);
    assert.equal(ok.headers["x-auth-request-preferred-username"], ALICE.name);
    assert.equal(ok.headers["cache-control"], "no-store");
    const sc = ok.cookies;
    assert.deepEqual(sc.map((x) => x.name), ["authjs.session-token"]); // re-issued, nothing else
    // Rules: a deny rule and a group condition alice does not meet are 403;
    // allowed_emails on the auth URL narrows further.
    for (const [uri, q, status] of [["/internal/x", "", 403], ["/public/../internal", "", 403],
      ["/admin", "", 403], ["/docs", "", 200], ["/docs", "?allowed_emails=bob@example.com", 403],
      ["/docs", `?allowed_email_domains=example.com`, 200]]) {
      const x = await ask(srv, c, "/forward" + q, { ...caddy("http://app.test" + uri), ...NAV });
      assert.equal(x.status, status, uri + q);
      if (status === 403) assert.deepEqual(x.json(), { error: "AccessDenied" });
    }
  });

  test("bypass needs no session; HEAD is answered; a missing target is 400", async () => {
    const c = client(srv);
    let r = await ask(srv, c, "/forward", traefik("http://app.test/public/logo.png"), "HEAD");
    assert.equal(r.status, 200);
    assert.deepEqual(r.cookies, []);
    r = await ask(srv, c, "/forward", { "x-forwarded-proto": "http" });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { error: "MissingForwardedHeaders" });
    r = await ask(srv, c, "/forward", { "x-original-url": "::not a url::" });
    assert.equal(r.status, 400);
  });
});

describe("forward-auth behind an untrusted peer", () => {
  test("forwarded headers from outside AUTHC_TRUSTED_PROXIES are ignored", async () => {
    const srv = await startServer({ env: { AUTHC_TRUSTED_PROXIES: "10.9.8.0/24" } });
    try {
      const c = client(srv);
      await c.signIn();
      const r = await ask(srv, c, "/forward", { ...traefik("http://app.test/"), ...NAV });
      assert.equal(r.status, 400);
      assert.equal(r.headers["x-auth-request-email"], undefined);
    } finally {
      await srv.stop();
    }
  });
});

describe("AUTHC_REDIRECT_ALLOWED_HOSTS: sign-in for sibling hosts", () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: {
      AUTH_URL: "http://auth.example.test/auth", AUTH_TRUST_HOST: undefined, AUTHC_REDIRECT_ALLOWED_HOSTS: "*.example.test",
    } });
  });
  after(async () => { await srv?.stop(); });

  test("authc on auth.example.test sends the user back to app.example.test, never elsewhere", async () => {
    // AUTH_URL names the public origin; the test reaches it on loopback.
    const c = client(srv);
    const auth = {};
    const r0 = await ask(srv, c, "/forward", { ...traefik("http://app.example.test/x?y=1"), ...NAV });
    assert.equal(r0.status, 302);
    const loc = new URL(r0.headers.location);
    assert.equal(loc.origin + loc.pathname, "http://auth.example.test/auth/signin");
    assert.equal(loc.searchParams.get("callbackUrl"), "http://app.example.test/x?y=1");
    for (const [cb, want] of [["http://app.example.test/x?y=1", "http://app.example.test/x?y=1"],
      ["http://evil.test/x", "http://auth.example.test"],
      ["http://example.test.evil.test/", "http://auth.example.test"]]) {
      const jar = client(srv);
      const csrfToken = (await (await jar("/csrf", { headers: auth })).json()).csrfToken;
      const r = await jar("/callback/credentials", {
        headers: auth, form: { username: ALICE.username, password: ALICE.password, csrfToken, callbackUrl: cb },
      });
      assertRedirect(r, want, cb);
    }
  });
});

describe("the rules file at start and in the CLI", () => {
  test("a rules file with an error stops authc check and authc serve, naming the line", () => {
    const bad = path.join(tmp, "bad.rules");
    writeFileSync(bad, "bypass path=/ok\nauthenticated path=admin\n");
    for (const verb of [["check"], ["serve", "--listen", "127.0.0.1:0"]]) {
      const r = runAuthc(verb, { env: { AUTHC_FORWARD_RULES: bad } });
      assert.equal(r.status, 1, verb[0]);
      assert.match(r.stderr, /AUTHC_FORWARD_RULES: .*bad\.rules line 2: path 'admin' must start with \//, verb[0]);
    }
  });

  test("authc forward check explains which rule decides", () => {
    let r = runAuthc(["forward", "check", "https://app.test/admin/x", "--email", "a@example.com", "--groups", "dev,admins"],
      { env: { AUTHC_FORWARD_RULES: rules } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /decision: allow/);
    assert.match(r.stdout, /rule at line 3: allowed/);
    r = runAuthc(["forward", "check", "https://app.test/admin/x", "--email", "a@example.com"], { env: { AUTHC_FORWARD_RULES: rules } });
    assert.equal(r.status, 3);
    assert.match(r.stdout, /decision: deny/);
    assert.match(r.stdout, /line 3: the user does not meet groups=/);
    r = runAuthc(["forward", "check", "https://app.test/internal", "--method", "POST"], { env: { AUTHC_FORWARD_RULES: rules } });
    assert.equal(r.status, 3);
    assert.match(r.stdout, /rule at line 2: deny/);
    r = runAuthc(["forward", "check", "https://app.test/docs"], { env: { AUTHC_FORWARD_RULES: rules } });
    assert.equal(r.status, 3);
    assert.match(r.stdout, /no rule matches \(default: authenticated\): a session is required/);
    r = runAuthc(["forward", "check", "not a url"], { env: { AUTHC_FORWARD_RULES: rules } });
    assert.equal(r.status, 1);
  });
});
