// http.test.mjs — the Auth.js HTTP routes of a running `authc serve`
// (protocol.md §1–§5, §7, §9, §10), the operator contract and robustness.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encode } from "@auth/core/jwt";
import { ALICE, SECRET, client, cookieMap, freePort, isDeletion, rawRequest, runAuthc, startServer, withServer, assertRedirect } from "./lib/server.mjs";

const HEX64 = /^[0-9a-f]{64}$/;
const SESSION = "authjs.session-token";
const CSRF = "authjs.csrf-token";
const CBURL = "authjs.callback-url";
const NO_STORE = { "cache-control": "private, no-cache, no-store", expires: "0", pragma: "no-cache" };

const sha256hex = (s) => createHash("sha256").update(s).digest("hex");

function assertNoStore(res) {
  for (const [k, v] of Object.entries(NO_STORE)) assert.equal(res.headers.get(k), v, `${k} header`);
}

function assertBadRequest(res, label) {
  assert.equal(res.status, 400, `${label}: status`);
  assert.match(res.headers.get("content-type") || "", /application\/json/, `${label}: content-type`);
  assert.deepEqual(res.headers.getSetCookie(), [], `${label}: no cookies`);
}

async function assertBadRequestBody(res, label) {
  assertBadRequest(res, label);
  assert.equal(await res.text(), '"Bad request."', `${label}: body`);
}

// Standard attributes of every authc cookie in insecure mode.
function assertLaxAttrs(c, { secure = false } = {}) {
  assert.equal(c.attrs.path, "/", `${c.name} Path`);
  assert.equal(c.attrs.httponly, true, `${c.name} HttpOnly`);
  assert.equal(c.attrs.samesite, "Lax", `${c.name} SameSite`);
  assert.equal(c.attrs.secure === true, secure, `${c.name} Secure`);
  assert.equal(c.attrs.domain, undefined, `${c.name} has no Domain`);
}

// argv for a serve that is expected to refuse (a free port, in case it does not).
const serveArgs = async () => ["serve", "--listen", `127.0.0.1:${await freePort()}`];

const mkToken = (claims, opts = {}) =>
  encode({ token: claims, secret: opts.secret ?? SECRET, salt: opts.salt ?? SESSION, maxAge: opts.maxAge ?? 3600 });

const aliceClaims = () => ({ name: ALICE.name, email: ALICE.email, sub: ALICE.id });

// ===================================================================== operator contract
describe("operator contract", () => {
  test("refuses to start when neither AUTH_URL nor AUTH_TRUST_HOST is set", async () => {
    const r = runAuthc(await serveArgs(), { env: { AUTH_TRUST_HOST: undefined, AUTH_URL: undefined }, timeout: 5000 });
    assert.notEqual(r.status, 0, "must exit non-zero (not hang, not serve)");
    assert.equal(r.signal, null, "exited by itself, not killed after the timeout");
    assert.match(r.stderr, /AUTH_URL/);
    assert.match(r.stderr, /AUTH_TRUST_HOST/);
  });

  test("refuses to start with a missing or short secret, naming the problem", async () => {
    const missing = runAuthc(await serveArgs(), { env: { AUTH_SECRET: undefined }, timeout: 5000 });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /AUTH_SECRET/);
    const short = runAuthc(await serveArgs(), { env: { AUTH_SECRET: "too-short" }, timeout: 5000 });
    assert.equal(short.status, 1);
    assert.match(short.stderr, /AUTH_SECRET.*(short|32)/);
    assert.ok(!short.stderr.includes("too-short"), "the secret value is not echoed");
  });

  test("refuses to start with an unreadable users file (one clear line)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-users-"));
    try {
      const missingPath = path.join(dir, "nope.txt");
      const r = runAuthc(await serveArgs(), { env: { AUTHC_USERS_FILE: missingPath }, timeout: 5000 });
      assert.equal(r.status, 1);
      const lines = r.stderr.split("\n").filter((l) => l.includes(missingPath));
      assert.equal(lines.length, 1, `one line names the file: ${r.stderr}`);
      const bad = path.join(dir, "bad.txt");
      writeFileSync(bad, "just-one-field\n");
      const r2 = runAuthc(await serveArgs(), { env: { AUTHC_USERS_FILE: bad }, timeout: 5000 });
      assert.equal(r2.status, 1);
      assert.match(r2.stderr, /bad\.txt:1/);
      if (process.getuid && process.getuid() !== 0) {
        const locked = path.join(dir, "locked.txt");
        writeFileSync(locked, "");
        chmodSync(locked, 0);
        const r3 = runAuthc(await serveArgs(), { env: { AUTHC_USERS_FILE: locked }, timeout: 5000 });
        assert.equal(r3.status, 1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("`authc secret` prints a fresh secret long enough for AUTH_SECRET", () => {
    const a = runAuthc(["secret"]);
    const b = runAuthc(["secret"]);
    assert.equal(a.status, 0);
    const sa = a.stdout.trim(), sb = b.stdout.trim();
    assert.ok(sa.length >= 32, `length ${sa.length}`);
    assert.notEqual(sa, sb);
    assert.equal(runAuthc(["check"], { env: { AUTH_SECRET: sa } }).status, 0, "a generated secret passes check");
  });

  test("`authc check` accepts a good configuration and lists every problem of a bad one", () => {
    const ok = runAuthc(["check"]);
    assert.equal(ok.status, 0, ok.stderr);
    const bad = runAuthc(["check"], { env: { AUTH_SECRET: "short", AUTH_TRUST_HOST: undefined, AUTHC_USERS_FILE: "/nonexistent/users" } });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /AUTH_SECRET/);
    assert.match(bad.stderr, /AUTH_TRUST_HOST/);
    assert.match(bad.stderr, /\/nonexistent\/users/);
  });

  test("SIGTERM stops the server cleanly (exit 0)", async () => {
    let srv;
    await withServer(async (s) => { srv = s; assert.ok(await s.alive()); });
    const st = await srv.stop();
    assert.equal(st.code, 0);
    assert.equal(st.forced, false);
  });
});

// ===================================================================== GET routes
describe("GET /providers, /csrf", () => {
  test("providers lists the credentials provider with absolute URLs and no cookies", () =>
    withServer(async (srv) => {
      const r = await fetch(srv.url("/providers"));
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type"), /^application\/json/);
      assert.deepEqual(r.headers.getSetCookie(), []);
      assert.deepEqual(await r.json(), {
        credentials: {
          id: "credentials", name: "Credentials", type: "credentials",
          signinUrl: srv.url("/signin/credentials"), callbackUrl: srv.url("/callback/credentials"),
        },
      });
    }));

  test("csrf returns a 64-hex token, no-store headers and a double-submit cookie", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const r = await c("/csrf");
      assert.equal(r.status, 200);
      assertNoStore(r);
      const { csrfToken } = await r.json();
      assert.match(csrfToken, HEX64);
      const cm = cookieMap(r);
      const ck = cm.get(CSRF);
      assert.ok(ck, "csrf cookie set");
      assertLaxAttrs(ck);
      assert.equal(ck.attrs["max-age"], undefined);
      assert.equal(ck.attrs.expires, undefined, "session cookie (no Expires)");
      assert.equal(ck.value, `${csrfToken}%7C${sha256hex(csrfToken + SECRET)}`);
      const cb = cm.get(CBURL);
      assert.ok(cb, "callback-url cookie set");
      assert.equal(decodeURIComponent(cb.value), srv.origin);
      // Reused while the cookie is valid, with no new cookie.
      const r2 = await c("/csrf");
      assert.equal((await r2.json()).csrfToken, csrfToken);
      assert.equal(cookieMap(r2).has(CSRF), false);
      // A cookie with a wrong hash is replaced.
      const r3 = await fetch(srv.url("/csrf"), { headers: { cookie: `${CSRF}=${csrfToken}%7C${"0".repeat(64)}` } });
      const t3 = (await r3.json()).csrfToken;
      assert.notEqual(t3, csrfToken);
      assert.ok(cookieMap(r3).has(CSRF));
    }));
});

describe("GET /session", () => {
  test("no cookie → null with no-store headers", () =>
    withServer(async (srv) => {
      const r = await fetch(srv.url("/session"));
      assert.equal(r.status, 200);
      assertNoStore(r);
      assert.match(r.headers.get("content-type"), /application\/json/);
      assert.equal(await r.text(), "null");
    }));

  test("valid token → session body and a re-issued cookie", () =>
    withServer(async (srv) => {
      const tok = await mkToken(aliceClaims());
      const t0 = Date.now();
      const r = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${tok}` } });
      assert.equal(r.status, 200);
      assertNoStore(r);
      const body = await r.json();
      assert.deepEqual(body.user, { name: ALICE.name, email: ALICE.email });
      assert.match(body.expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const exp = Date.parse(body.expires);
      assert.ok(Math.abs(exp - (t0 + 30 * 86400e3)) < 10e3, "expires = now + 30 days");
      const ck = cookieMap(r).get(SESSION);
      assert.ok(ck && ck.value && ck.value !== tok, "cookie re-issued with a new token");
      assertLaxAttrs(ck);
      assert.ok(Math.abs(Date.parse(ck.attrs.expires) - exp) < 2000, "cookie Expires matches");
    }));

  test("tampered token → null and the cookie is cleared", () =>
    withServer(async (srv) => {
      const tok = await mkToken(aliceClaims());
      const parts = tok.split(".");
      const ct = parts[3];
      const flip = (ct[5] === "A" ? "B" : "A");
      parts[3] = ct.slice(0, 5) + flip + ct.slice(6);
      for (const bad of [parts.join("."), tok.slice(0, -3), tok + "x", "not-a-jwt"]) {
        const r = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${bad}` } });
        assert.equal(r.status, 200);
        assert.equal(await r.text(), "null");
        const ck = cookieMap(r).get(SESSION);
        assert.ok(ck && isDeletion(ck), "session cookie cleared");
        assert.equal(ck.attrs["max-age"], "0");
      }
    }));

  test("expired token (beyond the 15 s tolerance) → null; within it → accepted", () =>
    withServer(async (srv) => {
      const old = await mkToken(aliceClaims(), { maxAge: -60 });
      const r = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${old}` } });
      assert.equal(await r.text(), "null");
      assert.ok(isDeletion(cookieMap(r).get(SESSION)));
      const recent = await mkToken(aliceClaims(), { maxAge: -5 });
      const r2 = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${recent}` } });
      assert.equal((await r2.json())?.user?.email, ALICE.email);
    }));

  test("token under a foreign secret or the other cookie name → null", () =>
    withServer(async (srv) => {
      for (const tok of [
        await mkToken(aliceClaims(), { secret: "another-secret-another-secret-another-secret" }),
        await mkToken(aliceClaims(), { salt: "__Secure-authjs.session-token" }),
      ]) {
        const r = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${tok}` } });
        assert.equal(await r.text(), "null");
        assert.ok(isDeletion(cookieMap(r).get(SESSION)));
      }
    }));
});

describe("POST /session (update)", () => {
  test("needs the CSRF token: 400 null without, session with", () =>
    withServer(async (srv) => {
      const c = client(srv);
      assert.equal((await c.signIn()).status, 302);
      const noTok = await c("/session", { json: { data: { x: 1 } } });
      assert.equal(noTok.status, 400);
      assert.equal(await noTok.text(), "null");
      const wrong = await c("/session", { json: { csrfToken: "0".repeat(64), data: {} } });
      assert.equal(wrong.status, 400);
      assert.equal(await wrong.text(), "null");
      const xr = await c("/session", { json: {}, headers: { "x-auth-return-redirect": "1" } });
      assert.equal(xr.status, 400, "X-Auth-Return-Redirect does not change POST /session errors");
      assert.equal(await xr.text(), "null");
      const tok = await c.csrf();
      const ok = await c("/session", { json: { csrfToken: tok, data: { name: "ignored" } } });
      assert.equal(ok.status, 200);
      const body = await ok.json();
      assert.equal(body.user.email, ALICE.email);
      assert.ok(cookieMap(ok).get(SESSION)?.value, "cookie re-issued");
      const form = await c("/session", { form: { csrfToken: tok } });
      assert.equal(form.status, 200);
      assert.equal((await form.json()).user.name, ALICE.name);
    }));
});

// ===================================================================== pages
// GETs an HTML page of srv that carries the CSRF cookie's token; returns its HTML.
async function pageWithCsrfToken(srv, p) {
  const c = client(srv);
  const r = await c(p);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/html/);
  const html = await r.text();
  const tok = decodeURIComponent(c.jar.get(CSRF)).split("|")[0];
  assert.match(tok, HEX64);
  assert.ok(html.includes(`value="${tok}"`), "page carries the cookie's token");
  return html;
}

describe("pages", () => {
  test("sign-in page: HTML with our CSRF token and the credentials form", () =>
    withServer(async (srv) => {
      const html = await pageWithCsrfToken(srv, "/signin");
      assert.match(html, /<form[^>]*action="[^"]*\/auth\/callback\/credentials"[^>]*>/);
      assert.match(html, /<form[^>]*method="post"/i);
      assert.match(html, /name="username"/);
      assert.match(html, /<input[^>]*name="password"[^>]*type="password"|<input[^>]*type="password"[^>]*name="password"/);
      assert.match(html, /name="csrfToken"/);
      assert.match(html, /<title>Sign In<\/title>/);
      assert.match(html, /<html lang="en"/);
    }));

  test("sign-in page language follows Accept-Language (en vs zh)", () =>
    withServer(async (srv) => {
      const en = await (await fetch(srv.url("/signin?error=CredentialsSignin"), { headers: { "accept-language": "en-US,en;q=0.9" } })).text();
      const zh = await (await fetch(srv.url("/signin?error=CredentialsSignin"), { headers: { "accept-language": "zh-CN,zh;q=0.9,en;q=0.5" } })).text();
      const pref = await (await fetch(srv.url("/signin"), { headers: { "accept-language": "fr;q=1, zh;q=0.8, en;q=0.1" } })).text();
      const none = await (await fetch(srv.url("/signin"))).text();
      assert.match(en, /<html lang="en"/);
      assert.match(zh, /<html lang="zh/);
      assert.match(pref, /<html lang="zh/, "q-values honoured");
      assert.match(none, /<html lang="en"/);
      assert.ok(/[\u4e00-\u9fff]/.test(zh), "Chinese text on the zh page");
      assert.ok(!/[\u4e00-\u9fff]/.test(en), "no Chinese text on the en page");
      assert.match(en, /class="error"/, "error message shown");
    }));

  test("sign-out page: HTML form with the CSRF token", () =>
    withServer(async (srv) => {
      const html = await pageWithCsrfToken(srv, "/signout");
      assert.match(html, /<form[^>]*method="post"/i);
      assert.match(html, /<title>Sign Out<\/title>/);
    }));

  test("error page status by code", () =>
    withServer(async (srv) => {
      const want = { Configuration: 500, AccessDenied: 403, Verification: 403, MissingCSRF: 200, Default: 200, "": 200, Nonsense: 200 };
      for (const [code, status] of Object.entries(want)) {
        const r = await fetch(srv.url(`/error?error=${code}`));
        assert.equal(r.status, status, `error=${code}`);
        assert.match(r.headers.get("content-type"), /^text\/html/);
        assert.match(await r.text(), /<title>Error<\/title>/);
      }
      const plain = await fetch(srv.url("/error"));
      assert.equal(plain.status, 200);
      const xss = await (await fetch(srv.url("/error?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E"))).text();
      assert.ok(!xss.includes("<script>alert(1)"), "error code is not reflected raw");
    }));

  test("verify-request page", () =>
    withServer(async (srv) => {
      const r = await fetch(srv.url("/verify-request?provider=email&type=email"));
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type"), /^text\/html/);
      const html = await r.text();
      assert.match(html, /<title>Verify Request<\/title>/);
      assert.match(html, /Check your email/);
    }));
});

// ===================================================================== sign-in
describe("sign-in", () => {
  test("POST /signin → 302 to the sign-in page; without CSRF → MissingCSRF", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const tok = await c.csrf();
      const r = await c("/signin", { form: { csrfToken: tok } });
      assertRedirect(r, srv.url("/signin"));
      const r2 = await c("/signin", { form: {} });
      assertRedirect(r2, srv.url("/signin?error=MissingCSRF"));
      const r3 = await c("/signin/credentials", { form: { csrfToken: tok } });
      assertRedirect(r3, srv.url("/signin"));
    }));

  test("GET /signin/credentials and GET /callback/credentials → Configuration", () =>
    withServer(async (srv) => {
      for (const p of ["/signin/credentials", "/callback/credentials?username=alice&password=x"]) {
        const r = await fetch(srv.url(p), { redirect: "manual" });
        assert.equal(r.status, 302, p);
        assert.equal(r.headers.get("location"), srv.url("/error?error=Configuration"), p);
        assert.deepEqual(r.headers.getSetCookie(), [], `${p}: error responses carry no cookies`);
      }
      const u = await fetch(srv.url("/signin/nosuchprovider"), { redirect: "manual" });
      assertRedirect(u, srv.url("/error?error=Configuration"));
    }));

  test("credentials success → 302 to callbackUrl with a session cookie", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const t0 = Date.now();
      const r = await c.signIn(ALICE.username, ALICE.password, { callbackUrl: "/dashboard?x=1" });
      assertRedirect(r, srv.origin + "/dashboard?x=1");
      const ck = cookieMap(r).get(SESSION);
      assert.ok(ck?.value, "session cookie");
      assertLaxAttrs(ck);
      assert.ok(Math.abs(Date.parse(ck.attrs.expires) - (t0 + 30 * 86400e3)) < 10e3);
      assert.equal(ck.value.split(".").length, 5, "JWE compact");
      const s = await (await c("/session")).json();
      assert.deepEqual(s.user, { name: ALICE.name, email: ALICE.email });
    }));

  test("JSON body sign-in works like a form", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const csrfToken = await c.csrf();
      const r = await c("/callback/credentials", { json: { username: ALICE.username, password: ALICE.password, csrfToken } });
      assert.equal(r.status, 302);
      assert.ok(cookieMap(r).get(SESSION)?.value);
    }));

  test("wrong password / unknown user → CredentialsSignin with code, no cookies", () =>
    withServer(async (srv) => {
      const c = client(srv);
      for (const [u, p] of [[ALICE.username, "wrong"], ["mallory", ALICE.password], [ALICE.username, ""]]) {
        const r = await c.signIn(u, p);
        assertRedirect(r, srv.url("/signin?error=CredentialsSignin&code=credentials"));
        assert.deepEqual(r.headers.getSetCookie(), []);
      }
      const missing = await c("/callback/credentials", { form: { csrfToken: await c.csrf() } });
      assert.equal(missing.headers.get("location"), srv.url("/signin?error=CredentialsSignin&code=credentials"));
      assert.equal(c.jar.get(SESSION), undefined);
    }));

  test("missing or wrong CSRF → MissingCSRF and no session", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const tok = await c.csrf();
      const cases = [
        { form: { username: ALICE.username, password: ALICE.password } },
        { form: { username: ALICE.username, password: ALICE.password, csrfToken: "f".repeat(64) } },
        { form: { username: ALICE.username, password: ALICE.password, csrfToken: tok }, headers: { cookie: "" } },
        { form: { username: ALICE.username, password: ALICE.password, csrfToken: tok }, headers: { cookie: `${CSRF}=${tok}%7C${"0".repeat(64)}` } },
        { body: `username=alice&password=x&csrfToken=${tok}`, headers: { "content-type": "text/plain" } },
      ];
      for (const [i, opts] of cases.entries()) {
        const r = await c("/callback/credentials", { method: "POST", ...opts });
        assert.equal(r.status, 302, `case ${i}`);
        assert.equal(r.headers.get("location"), srv.url("/signin?error=MissingCSRF"), `case ${i}`);
        assert.equal(cookieMap(r).has(SESSION), false, `case ${i}`);
      }
      // The token travels only in the body, never a header.
      const h = await c("/callback/credentials", { form: { username: ALICE.username, password: ALICE.password }, headers: { "x-csrf-token": tok } });
      assert.equal(h.headers.get("location"), srv.url("/signin?error=MissingCSRF"));
    }));
});

// ===================================================================== sign-out
describe("sign-out", () => {
  test("POST /signout clears the session cookie, keeps CSRF, redirects to the callbackUrl", () =>
    withServer(async (srv) => {
      const c = client(srv);
      await c.signIn();
      assert.ok(c.jar.get(SESSION));
      const tok = await c.csrf();
      const bad = await c("/signout", { form: {} });
      assert.equal(bad.headers.get("location"), srv.url("/signin?error=MissingCSRF"));
      assert.ok(c.jar.get(SESSION), "no sign-out without CSRF");
      const r = await c("/signout", { form: { csrfToken: tok, callbackUrl: "/bye" } });
      assertRedirect(r, srv.origin + "/bye");
      const cm = cookieMap(r);
      const s = cm.get(SESSION);
      assert.ok(s && s.value === "" && s.attrs["max-age"] === "0", "session cookie expired");
      assertLaxAttrs(s);
      assert.ok(!cm.has(CSRF) || !isDeletion(cm.get(CSRF)), "CSRF cookie kept");
      assert.equal(await (await c("/session")).text(), "null");
    }));

  test("X-Auth-Return-Redirect sign-out → 200 {url} and still Set-Cookie", () =>
    withServer(async (srv) => {
      const c = client(srv);
      await c.signIn();
      const tok = await c.csrf();
      const r = await c("/signout", { form: { csrfToken: tok }, headers: { "x-auth-return-redirect": "1" } });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type"), /application\/json/);
      assert.deepEqual(await r.json(), { url: srv.origin });
      assert.ok(isDeletion(cookieMap(r).get(SESSION)));
    }));

  test("sign-out without a session still redirects", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const tok = await c.csrf();
      const r = await c("/signout", { form: { csrfToken: tok } });
      assertRedirect(r, srv.origin);
    }));
});

// ===================================================================== 400 / unknown actions
describe("bad requests", () => {
  test("unknown action, extra segments, provider where none is allowed → 400", () =>
    withServer(async (srv) => {
      for (const p of ["/foo", "/session/extra", "/providers/credentials", "/csrf/x", "/signin/credentials/extra",
        "/error/x", "/signout/credentials", "/%zz", "/a/b/c", "/verify-request/x", "/csrf/undefined/x"]) {
        const r = await fetch(srv.url(p), { redirect: "manual" });
        await assertBadRequestBody(r, p);
      }
      // callback without a provider is a valid path that fails as Configuration;
      // the literal "undefined" counts as no provider.
      const cb = await fetch(srv.url("/callback"), { redirect: "manual" });
      assertRedirect(cb, srv.url("/error?error=Configuration"));
      const su = await fetch(srv.url("/signin/undefined"));
      assert.equal(su.status, 200);
      assert.match(su.headers.get("content-type"), /^text\/html/);
      // Trailing and doubled slashes are fine (empty segments dropped).
      assert.equal((await fetch(srv.url("/providers/"))).status, 200);
      assert.equal((await fetch(srv.origin + "/auth//session")).status, 200);
    }));

  test("bare /auth and /auth/ → 400", () =>
    withServer(async (srv) => {
      for (const p of ["/auth", "/auth/", "/auth?x=1"]) {
        const r = await fetch(srv.origin + p, { redirect: "manual" });
        await assertBadRequestBody(r, p);
      }
    }));

  test("methods other than GET/POST → 400", () =>
    withServer(async (srv) => {
      for (const m of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
        const r = await fetch(srv.url("/session"), { method: m, redirect: "manual" });
        await assertBadRequestBody(r, m);
      }
    }));

  test("POST to GET-only actions → Configuration redirect", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const tok = await c.csrf();
      for (const p of ["/csrf", "/providers", "/error", "/verify-request"]) {
        const r = await c(p, { form: { csrfToken: tok } });
        assert.equal(r.status, 302, p);
        assert.equal(r.headers.get("location"), srv.url("/error?error=Configuration"), p);
      }
    }));
});

// ===================================================================== X-Auth-Return-Redirect
describe("X-Auth-Return-Redirect", () => {
  test("success: 200 {url} keeping Location and Set-Cookie", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const csrfToken = await c.csrf();
      const r = await c("/callback/credentials", {
        form: { username: ALICE.username, password: ALICE.password, csrfToken, callbackUrl: srv.origin + "/home" },
        headers: { "x-auth-return-redirect": "1" },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { url: srv.origin + "/home" });
      assert.equal(r.headers.get("location"), srv.origin + "/home");
      assert.ok(cookieMap(r).get(SESSION)?.value);
    }));

  test("error: 200 {url: error page} with no cookies and no Location", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const csrfToken = await c.csrf();
      const r = await c("/callback/credentials", { form: { username: "alice", password: "bad", csrfToken }, headers: { "x-auth-return-redirect": "1" } });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { url: srv.url("/signin?error=CredentialsSignin&code=credentials") });
      assert.deepEqual(r.headers.getSetCookie(), []);
      assert.equal(r.headers.get("location"), null);
      const r2 = await c("/signout", { form: {}, headers: { "x-auth-return-redirect": "1" } });
      assert.deepEqual(await r2.json(), { url: srv.url("/signin?error=MissingCSRF") });
    }));
});

// ===================================================================== callbackUrl
describe("callbackUrl", () => {
  test("relative, same-origin, off-origin and protocol-relative targets", () =>
    withServer(async (srv) => {
      const cases = [
        ["/after", srv.origin + "/after"],
        [srv.origin + "/same?q=1", srv.origin + "/same?q=1"],
        ["https://evil.example/steal", srv.origin],
        ["http://127.0.0.1:1/other-port", srv.origin],
        ["//evil.example/x", srv.origin + "//evil.example/x"],
      ];
      for (const [cb, want] of cases) {
        const c = client(srv);
        const r = await c.signIn(ALICE.username, ALICE.password, { callbackUrl: cb });
        assert.equal(r.status, 302, cb);
        assert.equal(r.headers.get("location"), want, cb);
      }
    }));

  test("query callbackUrl is stored in the cookie and used later", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const r = await c("/signin?callbackUrl=%2Fprofile");
      assert.equal(r.status, 200);
      assert.equal(decodeURIComponent(c.jar.get(CBURL)), srv.origin + "/profile");
      const s = await c.signIn();
      assert.equal(s.headers.get("location"), srv.origin + "/profile");
    }));

  test("invalid query callbackUrl → 500 JSON, or the HTML Configuration page", () =>
    withServer(async (srv) => {
      for (const bad of ["javascript:alert(1)", "foo", "ftp://x.example/"]) {
        const q = "?callbackUrl=" + encodeURIComponent(bad);
        const j = await fetch(srv.url("/csrf" + q));
        assert.equal(j.status, 500, bad);
        assert.match(j.headers.get("content-type"), /application\/json/);
        assert.deepEqual(await j.json(), { message: "There was a problem with the server configuration. Check the server logs for more information." });
        const h = await fetch(srv.url("/signin" + q));
        assert.equal(h.status, 500, bad);
        assert.match(h.headers.get("content-type"), /^text\/html/);
        assert.match(await h.text(), /<title>Error<\/title>/);
      }
    }));

  test("a malformed callback-url cookie does not lock the user out", () =>
    withServer(async (srv) => {
      const c = client(srv);
      c.jar.set(CBURL, encodeURIComponent("javascript:alert(1)"));
      const s = await c("/session");
      assert.equal(s.status, 200, "session still answers");
      const r = await c.signIn();
      assert.equal(r.status, 302, "sign-in still works");
      const loc = r.headers.get("location");
      assert.ok(loc.startsWith(srv.origin), `redirect stays on our origin: ${loc}`);
      assert.ok(!loc.includes("javascript"));
      assert.ok(cookieMap(r).get(SESSION)?.value);
    }));
});

// ===================================================================== chunking
describe("session cookie chunking", () => {
  const BIG = { id: "u-big", username: "big", password: ALICE.password, email: "big@example.com", name: "N".repeat(3000) };

  test("a large token is split into .0/.1 chunks of 3936 and reassembled", () =>
    withServer({ users: [ALICE, BIG] }, async (srv) => {
      const c = client(srv);
      const r = await c.signIn(BIG.username, BIG.password);
      assert.equal(r.status, 302);
      const cm = cookieMap(r);
      assert.ok(!cm.has(SESSION) || isDeletion(cm.get(SESSION)), "no unsuffixed cookie");
      const c0 = cm.get(SESSION + ".0"), c1 = cm.get(SESSION + ".1");
      assert.ok(c0 && c1, `chunks: ${[...cm.keys()]}`);
      assert.equal(c0.value.length, 3936);
      assert.ok(c1.value.length > 0 && c1.value.length <= 3936);
      assert.equal(cm.has(SESSION + ".2"), false);
      assertLaxAttrs(c0);
      assertLaxAttrs(c1);
      assert.equal(c0.attrs.expires, c1.attrs.expires);
      const s = await (await c("/session")).json();
      assert.equal(s.user.name, BIG.name);
      // Order in the Cookie header does not matter.
      const rev = `${SESSION}.1=${c.jar.get(SESSION + ".1")}; ${SESSION}.0=${c.jar.get(SESSION + ".0")}`;
      const s2 = await (await fetch(srv.url("/session"), { headers: { cookie: rev } })).json();
      assert.equal(s2?.user?.name, BIG.name);
    }));

  test("shrinking back to one cookie expires the stale chunks", () =>
    withServer({ users: [ALICE, BIG] }, async (srv) => {
      const c = client(srv);
      await c.signIn(BIG.username, BIG.password);
      assert.deepEqual(c.jar.names().filter((n) => n.startsWith(SESSION)), [SESSION + ".0", SESSION + ".1"]);
      const r = await c.signIn(ALICE.username, ALICE.password);
      const cm = cookieMap(r);
      assert.ok(cm.get(SESSION)?.value, "plain cookie set");
      assert.ok(isDeletion(cm.get(SESSION + ".0")), ".0 expired");
      assert.ok(isDeletion(cm.get(SESSION + ".1")), ".1 expired");
      assert.deepEqual(c.jar.names().filter((n) => n.startsWith(SESSION)), [SESSION]);
      assert.equal((await (await c("/session")).json()).user.email, ALICE.email);
      // Growing again expires the plain cookie.
      const g = await c.signIn(BIG.username, BIG.password);
      assert.ok(isDeletion(cookieMap(g).get(SESSION)), "plain cookie expired when chunking");
      // Sign-out clears every chunk.
      const so = await c("/signout", { form: { csrfToken: await c.csrf() } });
      const scm = cookieMap(so);
      assert.ok(isDeletion(scm.get(SESSION + ".0")) && isDeletion(scm.get(SESSION + ".1")));
    }));
});

// ===================================================================== origins
describe("origin, secure mode and proxies", () => {
  test("AUTH_URL=https://… → __Secure-/__Host- names, Secure attribute, https URLs", () =>
    withServer({ env: { AUTH_URL: "https://auth.example.test/auth", AUTH_TRUST_HOST: undefined } }, async (srv) => {
      const pr = await (await fetch(srv.url("/providers"))).json();
      assert.equal(pr.credentials.signinUrl, "https://auth.example.test/auth/signin/credentials");
      const c = client(srv);
      const r = await c("/csrf");
      const cm = cookieMap(r);
      const csrf = cm.get("__Host-authjs.csrf-token");
      assert.ok(csrf, `cookies: ${[...cm.keys()]}`);
      assertLaxAttrs(csrf, { secure: true });
      const cb = cm.get("__Secure-authjs.callback-url");
      assert.ok(cb);
      assertLaxAttrs(cb, { secure: true });
      assert.equal(decodeURIComponent(cb.value), "https://auth.example.test");
      const s = await c.signIn();
      assert.equal(s.headers.get("location"), "https://auth.example.test");
      const sess = cookieMap(s).get("__Secure-authjs.session-token");
      assert.ok(sess?.value);
      assertLaxAttrs(sess, { secure: true });
      assert.equal((await (await c("/session")).json()).user.email, ALICE.email);
      // The insecure name is not read in secure mode.
      const tok = await mkToken(aliceClaims());
      assert.equal(await (await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${tok}` } })).text(), "null");
      const stok = await mkToken(aliceClaims(), { salt: "__Secure-authjs.session-token" });
      const ok = await fetch(srv.url("/session"), { headers: { cookie: `__Secure-authjs.session-token=${stok}` } });
      assert.equal((await ok.json())?.user?.email, ALICE.email);
    }));

  test("with AUTH_TRUST_HOST the Host header gives the origin", () =>
    withServer(async (srv) => {
      const raw = await rawRequest(srv.port, "GET /auth/providers HTTP/1.1\r\nHost: myapp.example:8443\r\nConnection: close\r\n\r\n");
      assert.match(raw, /^HTTP\/1\.1 200/);
      const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
      assert.equal(body.credentials.signinUrl, "http://myapp.example:8443/auth/signin/credentials");
    }));

  test("AUTH_URL with another path moves the routes there", () =>
    withServer({ basePath: "/api/auth", env: { AUTH_URL: "http://public.example.test/api/auth" } }, async (srv) => {
      const pr = await (await fetch(srv.url("/providers"))).json();
      assert.equal(pr.credentials.callbackUrl, "http://public.example.test/api/auth/callback/credentials");
      const old = await fetch(srv.origin + "/auth/providers");
      assert.notEqual(old.status, 200, "not served under /auth any more");
      const c = client(srv);
      const r = await c.signIn();
      assertRedirect(r, "http://public.example.test");
    }));

  test("AUTH_TRUST_HOST=false: refuses to start or serves normally, never a broken server", async () => {
    let srv;
    try {
      srv = await startServer({ env: { AUTH_TRUST_HOST: "false" } });
    } catch (e) {
      assert.match(e.message, /AUTH_TRUST_HOST/, "a refusal names the setting");
      return;
    }
    // It started (Auth.js counts any set value as trusted): it must work.
    try {
      const res = await fetch(srv.url("/providers"));
      assert.equal(res.status, 200, "started, but requests fail");
    } finally {
      await srv.stop();
    }
  });

  test("X-Forwarded-Host/Proto are used with AUTH_TRUST_HOST; AUTH_URL wins over them", async () => {
    await withServer(async (srv) => {
      const fwd = { "x-forwarded-host": "app.example.org", "x-forwarded-proto": "https" };
      const pr = await (await fetch(srv.url("/providers"), { headers: fwd })).json();
      assert.equal(pr.credentials.callbackUrl, "https://app.example.org/auth/callback/credentials");
      const r = await fetch(srv.url("/csrf"), { headers: fwd });
      const ck = cookieMap(r).get("__Host-authjs.csrf-token");
      assert.ok(ck, "secure cookie names behind an https proxy");
      assert.equal(ck.attrs.secure, true);
      const plain = await (await fetch(srv.url("/providers"))).json();
      assert.equal(plain.credentials.signinUrl, srv.url("/signin/credentials"), "Host header otherwise");
      const c = client(srv);
      const s = await c.signIn(ALICE.username, ALICE.password, { callbackUrl: "https://app.example.org/x" });
      assert.equal(s.headers.get("location"), srv.origin, "off-origin without the proxy headers");
    });
    await withServer({ env: { AUTH_URL: "http://public.example.test:8080/auth" } }, async (srv) => {
      const pr = await (await fetch(srv.url("/providers"), { headers: { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" } })).json();
      assert.equal(pr.credentials.signinUrl, "http://public.example.test:8080/auth/signin/credentials");
    });
  });
});

// ===================================================================== full flow
describe("full flow", () => {
  test("csrf → credentials sign-in → session → sign-out → no session", () =>
    withServer(async (srv) => {
      const c = client(srv);
      assert.equal(await (await c("/session")).text(), "null");
      const page = await (await c("/signin")).text();
      const tok = /name="csrfToken"[^>]*value="([0-9a-f]{64})"|value="([0-9a-f]{64})"[^>]*name="csrfToken"/.exec(page);
      assert.ok(tok, "token on the page");
      const csrfToken = tok[1] || tok[2];
      const si = await c("/callback/credentials", { form: { username: ALICE.username, password: ALICE.password, csrfToken } });
      assert.equal(si.status, 302);
      const s1 = await (await c("/session")).json();
      assert.equal(s1.user.email, ALICE.email);
      const s2 = await (await c("/session")).json();
      assert.ok(Date.parse(s2.expires) >= Date.parse(s1.expires));
      const so = await c("/signout", { form: { csrfToken } });
      assert.equal(so.status, 302);
      assert.equal(await (await c("/session")).text(), "null");
      assert.deepEqual(c.jar.names().filter((n) => n.includes("session-token")), []);
    }));
});

// ===================================================================== robustness
describe("robustness", () => {
  test("oversized headers, body, cookies and too many headers → 4xx, server alive", () =>
    withServer(async (srv) => {
      const statusOf = (raw) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] || 0);
      const big = "a".repeat(200 * 1024);
      const r1 = await rawRequest(srv.port, `GET /auth/session HTTP/1.1\r\nHost: x\r\nCookie: ${SESSION}=${big}\r\nConnection: close\r\n\r\n`);
      const s1 = statusOf(r1);
      assert.ok(s1 >= 400 && s1 < 500, `huge cookie: ${r1.slice(0, 80)}`);
      const r2 = await rawRequest(srv.port, `GET /auth/session HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\nConnection: close\r\n\r\n`);
      const s2 = statusOf(r2);
      assert.ok(s2 >= 400 && s2 < 500, `huge header: ${r2.slice(0, 80)}`);
      const many = Array.from({ length: 300 }, (_, i) => `X-H${i}: v`).join("\r\n");
      const r3 = await rawRequest(srv.port, `GET /auth/session HTTP/1.1\r\nHost: x\r\n${many}\r\nConnection: close\r\n\r\n`);
      const s3 = statusOf(r3);
      assert.ok(s3 >= 400 && s3 < 500, `many headers: ${r3.slice(0, 80)}`);
      // A 2 MiB body is refused from its Content-Length alone (413 before any
      // body is read); sending the body too would race the server's close.
      const r4 = await rawRequest(srv.port, `POST /auth/callback/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${2 * 1024 * 1024}\r\nConnection: close\r\n\r\ncsrfToken=`);
      const s4 = statusOf(r4);
      assert.ok(s4 >= 400 && s4 < 500, `big body: ${r4.slice(0, 80)}`);
      const r5 = await fetch(srv.url("/session"), { headers: { cookie: Array.from({ length: 400 }, (_, i) => `c${i}=${"v".repeat(50)}`).join("; ") } });
      assert.ok(r5.status < 500, `many cookies: ${r5.status}`);
      if (r5.status === 200) assert.equal(await r5.text(), "null");
      const r6 = await fetch(srv.url("/session?" + "q=" + "z".repeat(20000)));
      assert.ok(r6.status >= 400 && r6.status < 500, `long URI: ${r6.status}`);
      assert.ok(await srv.alive(), "server still answers");
    }));

  test("documented hard limits: under → normal answer, over → 4xx (docs/compatibility.md)", () =>
    // The library's own limits; the server's header block limit is 64 KiB.
    withServer(async (srv) => {
      const c = client(srv);
      const t = await c.csrf();
      const is4xx = (r, label) => assert.ok(r.status >= 400 && r.status < 500, `${label}: ${r.status}`);
      const cookies = (n) => Array.from({ length: n }, (_, i) => `c${i}=v`).join("; ");
      assert.equal((await fetch(srv.url("/session"), { headers: { cookie: cookies(128) } })).status, 200, "128 cookies");
      is4xx(await fetch(srv.url("/session"), { headers: { cookie: cookies(129) } }), "129 cookies");
      const form = (bytes) => c("/signin", { method: "POST", body: `csrfToken=${t}&x=${"a".repeat(bytes - 80)}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
      const under = await form(63 * 1024);
      assertRedirect(under, srv.url("/signin"), "a 63 KiB body is read (CSRF passes)");
      is4xx(await form(65 * 1024), "65 KiB body");
      assert.equal((await fetch(srv.url("/session?x=" + "a".repeat(7 * 1024)))).status, 200, "7 KiB URL");
      is4xx(await fetch(srv.url("/session?x=" + "a".repeat(9 * 1024))), "9 KiB URL");
      const fields = (n) => c("/signin", { method: "POST", body: `csrfToken=${t}&` + Array.from({ length: n - 1 }, (_, i) => `f${i}=1`).join("&"), headers: { "content-type": "application/x-www-form-urlencoded" } });
      assert.equal((await fields(256)).headers.get("location"), srv.url("/signin"), "256 fields");
      is4xx(await fields(257), "257 fields");
      assert.equal((await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${"a".repeat(63 * 1024)}` } })).status, 200, "63 KiB cookie");
      is4xx(await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${"a".repeat(65 * 1024)}` } }), "65 KiB cookie");
      assert.ok(await srv.alive());
    }));

  test("header block limit: a three-chunk session fits, a 70 KiB Cookie header is refused", () =>
    withServer(async (srv) => {
      const chunk = "a".repeat(3936);
      const three = `${SESSION}.0=${chunk}; ${SESSION}.1=${chunk}; ${SESSION}.2=${chunk}`;
      const r = await fetch(srv.url("/session"), { headers: { cookie: three } });
      assert.equal(r.status, 200, "three chunks");
      assert.equal(await r.text(), "null"); // not a valid token, but read and answered
      assert.equal(r.headers.getSetCookie().filter((c) => c.startsWith(SESSION) && /Max-Age=0/.test(c)).length, 3,
        "all three stale chunks are cleared in one response");
      const big = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}=${"a".repeat(70 * 1024)}` } });
      assert.ok(big.status >= 400 && big.status < 500, `70 KiB cookie: ${big.status}`);
      assert.ok(await srv.alive());
    }));

  test("malformed cookies, bad JSON, bad percent-encoding", () =>
    withServer(async (srv) => {
      const cookies = [
        SESSION, `${SESSION}=`, "=;;;=", `${SESSION}=%zz%`, `${SESSION}="quoted"`, `${SESSION}=${"é".repeat(10)}`,
        `${SESSION}.x=abc; ${SESSION}.0=; ${SESSION}.99999999999999999999=a`, `${CSRF}=%E0%A4%A; ${CBURL}=%`,
        `${SESSION}=a.b.c.d.e`, `${SESSION}=....`, `${SESSION}=eyJhbGciOiJub25lIn0..AAAA.AAAA.AAAA`,
      ];
      for (const ck of cookies) {
        const r = await fetch(srv.url("/session"), { headers: { cookie: ck } });
        assert.equal(r.status, 200, ck);
        assert.equal(await r.text(), "null", ck);
      }
      const c = client(srv);
      const tok = await c.csrf();
      const j = await c("/session", { method: "POST", body: "{\"csrfToken\":", headers: { "content-type": "application/json" } });
      assert.equal(j.status, 400);
      assert.equal(await j.text(), "null");
      const j2 = await c("/session", { method: "POST", body: JSON.stringify([tok]), headers: { "content-type": "application/json" } });
      assert.equal(j2.status, 400);
      const j3 = await c("/callback/credentials", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
      assertRedirect(j3, srv.url("/signin?error=MissingCSRF"));
      const f = await c("/callback/credentials", { method: "POST", body: `username=%zz&password=%&csrfToken=${tok}%`, headers: { "content-type": "application/x-www-form-urlencoded" } });
      assert.equal(f.status, 302);
      assert.ok(!cookieMap(f).get(SESSION)?.value);
      const q = await fetch(srv.url("/signin?callbackUrl=%2Fok%zz&error=%zz%"));
      assert.equal(q.status, 200, "lenient query decoding like URLSearchParams");
      assert.match(q.headers.get("content-type"), /^text\/html/);
      assert.ok(await srv.alive());
    }));

  test("1000 random garbage requests: server stays up and never returns a session", () =>
    withServer(async (srv) => {
      const rnd = (n) => randomBytes(n);
      const pick = (a) => a[Math.floor(Math.random() * a.length)];
      const printable = (n) => Array.from(rnd(n), (b) => String.fromCharCode(33 + (b % 94))).join("");
      const actions = ["session", "csrf", "providers", "signin", "signout", "callback/credentials", "signin/credentials", "error", "verify-request", "", "x"];
      const validTok = await mkToken(aliceClaims());
      // Changes 1–4 characters that each carry six full bits (never a
      // segment's last character or a dot), so the token is always broken.
      const mutate = (s) => {
        const a = s.split("");
        for (let n = 1 + (rnd(1)[0] % 4); n > 0;) {
          const i = rnd(2).readUInt16BE() % (a.length - 1);
          if (a[i] === "." || a[i + 1] === ".") continue;
          const r = pick("ABCxyz019-_");
          if (r === a[i]) continue;
          a[i] = r;
          n--;
        }
        return a.join("");
      };
      const build = () => {
        const kind = rnd(1)[0] % 6;
        if (kind === 0) return rnd(1 + (rnd(2).readUInt16BE() % 2000)); // pure binary
        const method = pick(["GET", "POST", "PUT", "HEAD", "G\x00T", "POST", "GET", printable(5)]);
        let p = "/auth/" + pick(actions);
        if (kind === 2) p += "?" + printable(rnd(1)[0]);
        if (kind === 3) p = "/auth/" + encodeURIComponent(rnd(8).toString("latin1")) + pick(["", "/", "/../../etc/passwd", "%00"]);
        const headers = [`Host: ${pick(["x", "127.0.0.1", printable(10), ""])}`];
        const cookieVal = pick([printable(rnd(1)[0] + 1), mutate(validTok), rnd(40).toString("base64url"), "%" + printable(3)]);
        headers.push(`Cookie: ${pick([SESSION, SESSION + ".0", CSRF, CBURL, "x"])}=${cookieVal}`);
        if (rnd(1)[0] & 1) headers.push(`X-Forwarded-Host: ${printable(8)}`);
        if (rnd(1)[0] & 1) headers.push(`Accept-Language: ${printable(30)}`);
        let body = "";
        if (method === "POST") {
          body = pick([printable(rnd(1)[0]), JSON.stringify({ csrfToken: printable(64), data: printable(10) }), `csrfToken=${printable(64)}&username=alice&password=${printable(8)}`]);
          headers.push(`Content-Type: ${pick(["application/json", "application/x-www-form-urlencoded", printable(12)])}`);
          headers.push(`Content-Length: ${pick([Buffer.byteLength(body), Buffer.byteLength(body), 99999, -1, "abc"])}`);
        }
        headers.push("Connection: close");
        return Buffer.from(`${method} ${p} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${body}`, "latin1");
      };
      const reqs = Array.from({ length: 1000 }, build);
      let i = 0, answered = 0;
      const bad = [];
      const worker = async () => {
        while (i < reqs.length) {
          const req = reqs[i++];
          const out = await rawRequest(srv.port, req, 2000);
          if (/^HTTP\/1\.[01] \d{3}/.test(out)) answered++;
          const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1] || 0);
          if (/"user"\s*:/.test(out) || /\r\nset-cookie: authjs\.session-token(\.\d+)?=[^;\r\s]/i.test(out) || status >= 500 && !/application\/json|text\/html/.test(out))
            bad.push(req.toString("latin1").slice(0, 200) + " => " + out.slice(0, 300));
        }
      };
      await Promise.all(Array.from({ length: 25 }, worker));
      assert.deepEqual(bad, [], "no session handed out, no unexplained 5xx");
      assert.ok(answered > 500, `most requests got an HTTP answer (${answered})`);
      assert.ok(await srv.alive(), "server alive after the garbage");
      // And it still works properly.
      const c = client(srv);
      assert.equal((await c.signIn()).status, 302);
      assert.equal((await (await c("/session")).json()).user.email, ALICE.email);
    }));
});
