// interop.test.mjs — authc against the reference: @auth/core 0.41.3's jwt
// encode/decode and Auth() run in-process with the same secret and users.
import { createCipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decode, encode } from "@auth/core/jwt";
import { ALICE, PASSWORD, SECRET, client, cookieMap, setCookies, withServer, assertRedirect } from "./lib/server.mjs";
import { authjsConfig, authjsTarget } from "./lib/authjs.mjs";

const SESSION = "authjs.session-token";
const SECURE_SESSION = "__Secure-authjs.session-token";
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BIG = { id: "u-big", username: "big", password: PASSWORD, email: "big@example.com", name: "N".repeat(3000) };

// ---------------------------------------------------------------- normalisation

// Replaces random values (JWEs, hex tokens, ISO dates, UUIDs, long base64url
// runs such as cookie chunks) with placeholders.
function normStr(s) {
  return s
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "<jwe>")
    .replace(/[0-9a-f]{64}/g, "<hex64>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<iso>")
    .replace(/[A-Za-z0-9_-]{200,}/g, "<b64>");
}

function normDelta(dateStr) {
  const d = (Date.parse(dateStr) - Date.now()) / 1000;
  if (Number.isNaN(d)) return `bad-date:${dateStr}`;
  if (Math.abs(d - 2592000) < 15) return "now+30d";
  if (Math.abs(d - 900) < 15) return "now+900s";
  if (Math.abs(d) < 15) return "now";
  return d < 0 ? "past" : `now+${Math.round(d)}s`;
}

function normCookie(c) {
  const attrs = { ...c.attrs };
  if (attrs.expires) attrs.expires = normDelta(attrs.expires);
  // Chunks are slices of a JWE: only their length is comparable.
  const value = /session-token\.\d+$/.test(c.name) && c.value ? `<chunk:${c.value.length}>` : normStr(c.value);
  return { name: c.name, value, order: c.order.join(";"), attrs };
}

function walk(v) {
  if (typeof v === "string") return normStr(v);
  if (Array.isArray(v)) return v.map(walk);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  return v;
}

// What a client relies on in a page: title, form targets and methods,
// input names and types (not the markup or the wording).
function htmlShape(html) {
  const attr = (tag, name) => new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag)?.[1] ?? null;
  const forms = [...html.matchAll(/<form\b[^>]*>/gi)].map((m) => `${(attr(m[0], "method") || "get").toLowerCase()} ${normStr(attr(m[0], "action") || "")}`);
  const inputs = [...html.matchAll(/<input\b[^>]*>/gi)].map((m) => `${attr(m[0], "name")}:${attr(m[0], "type") || "text"}`).sort();
  return { title: /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? "?", forms, inputs };
}

const COMPARED_HEADERS = ["content-type", "location", "cache-control", "expires", "pragma"];

// The parts of a response that must agree between authc and Auth.js.
async function norm(res) {
  const headers = {};
  const html = (res.headers.get("content-type") || "").includes("html");
  for (const h of COMPARED_HEADERS) {
    const v = res.headers.get(h);
    // Deliberate: authc's pages are never cached (docs/security.md).
    if (html && h === "cache-control" && v === "no-store") continue;
    if (v !== null) headers[h] = normStr(v);
  }
  const text = await res.text();
  let body;
  const ct = res.headers.get("content-type") || "";
  if (ct.includes("json")) body = walk(JSON.parse(text));
  else if (ct.includes("html")) body = htmlShape(text);
  else body = normStr(text);
  const cookies = setCookies(res).map(normCookie).sort((a, b) => a.name.localeCompare(b.name));
  return { status: res.status, headers, cookies, body };
}

// Runs the same steps against authc and Auth.js (fresh jars) and returns
// the normalised responses of each step.
async function sideBySide(srv, steps, { authjs = authjsTarget(srv.origin), prepare } = {}) {
  const out = {};
  for (const [name, target] of [["authc", srv], ["authjs", authjs]]) {
    const c = client(target);
    if (prepare) await prepare(c);
    out[name] = [];
    for (const step of steps) out[name].push({ step: step.label, ...(await norm(await step.run(c))) });
  }
  return out;
}

const step = (label, run) => ({ label, run });

// ---------------------------------------------------------------- token crafting

const b64u = (b) => Buffer.from(b).toString("base64url");
const hkdf = (secret, salt, len) =>
  Buffer.from(hkdfSync("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, len));

// Auth.js picks the hash by key size: SHA-256 for 32 bytes, SHA-512 for 64.
function thumbprint(key) {
  return createHash(`sha${key.length * 8}`).update(JSON.stringify({ k: b64u(key), kty: "oct" })).digest("base64url");
}

// A256GCM token (32-byte key), the variant Auth.js decodes but never encodes.
function gcmToken(claims, secret, salt, { kid = true } = {}) {
  const key = hkdf(secret, salt, 32);
  const hdr = { alg: "dir", enc: "A256GCM" };
  if (kid) hdr.kid = thumbprint(key);
  const h = b64u(JSON.stringify(hdr));
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(h));
  const ct = Buffer.concat([c.update(JSON.stringify(claims)), c.final()]);
  return [h, "", b64u(iv), b64u(ct), b64u(c.getAuthTag())].join(".");
}

// A256CBC-HS512 token without a kid (RFC 7518 §5.2).
function cbcTokenNoKid(claims, secret, salt) {
  const key = hkdf(secret, salt, 64);
  const h = b64u(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512" }));
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", key.subarray(32), iv);
  const ct = Buffer.concat([c.update(JSON.stringify(claims)), c.final()]);
  const aad = Buffer.from(h);
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(aad.length * 8));
  const tag = createHmac("sha512", key.subarray(0, 32)).update(Buffer.concat([aad, iv, ct, al])).digest().subarray(0, 32);
  return [h, "", b64u(iv), b64u(ct), b64u(tag)].join(".");
}

const now = () => Math.floor(Date.now() / 1000);
const claimsFor = (u) => ({ name: u.name, email: u.email, sub: u.id });

async function sessionVia(target, cookie) {
  const fetcher = target.fetch || fetch;
  const r = await fetcher(target.url("/session"), { headers: { cookie }, redirect: "manual" });
  return { status: r.status, body: await r.json(), cookies: setCookies(r) };
}

// ================================================================== (a) tokens authc issues
describe("authc-issued tokens decode with @auth/core", () => {
  test("credentials sign-in token has name/email/sub/iat/exp/jti and the Auth.js header", () =>
    withServer(async (srv) => {
      const c = client(srv);
      const r = await c.signIn();
      assert.equal(r.status, 302);
      const tok = cookieMap(r).get(SESSION).value;
      const hdr = JSON.parse(Buffer.from(tok.split(".")[0], "base64url"));
      assert.deepEqual(hdr, { alg: "dir", enc: "A256CBC-HS512", kid: thumbprint(hkdf(SECRET, SESSION, 64)) });
      assert.equal(tok.split(".")[1], "", "empty encrypted-key segment");
      const claims = await decode({ token: tok, secret: SECRET, salt: SESSION });
      assert.ok(claims, "decodes");
      assert.deepEqual(Object.keys(claims).sort(), ["authc", "email", "exp", "iat", "jti", "name", "sub"]);
      // authc's own claim (revocation, docs/guide-revocation.md).
      assert.deepEqual(Object.keys(claims.authc), ["sid", "iat", "p"]);
      assert.equal(claims.authc.p, "credentials");
      assert.equal(claims.name, ALICE.name);
      assert.equal(claims.email, ALICE.email);
      assert.equal(claims.sub, ALICE.id);
      assert.ok(Math.abs(claims.iat - now()) <= 5);
      assert.equal(claims.exp - claims.iat, 2592000);
      assert.match(claims.jti, UUID4);
      // Salt = cookie name: it does not decode under the other name or secret.
      assert.equal(await decode({ token: tok, secret: SECRET, salt: SECURE_SESSION }).catch(() => null), null);
      await assert.rejects(decode({ token: tok, secret: "x".repeat(40), salt: SESSION }));
      // Every /session re-issues with fresh iat/exp/jti.
      const again = cookieMap(await c("/session")).get(SESSION).value;
      const c2 = await decode({ token: again, secret: SECRET, salt: SESSION });
      assert.notEqual(c2.jti, claims.jti);
      assert.equal(c2.sub, ALICE.id);
    }));

  test("secure mode uses the __Secure- name as the salt", () =>
    withServer({ env: { AUTH_URL: "https://auth.example.test/auth" } }, async (srv) => {
      const c = client(srv);
      const r = await c.signIn();
      const tok = cookieMap(r).get(SECURE_SESSION)?.value;
      assert.ok(tok);
      assert.equal((await decode({ token: tok, secret: SECRET, salt: SECURE_SESSION })).sub, ALICE.id);
    }));
});

// ================================================================== (b) tokens Auth.js issues
describe("@auth/core tokens are accepted by authc", () => {
  test("encode() token → same /session body as Auth.js's Auth() for that cookie", () =>
    withServer(async (srv) => {
      const authjs = authjsTarget(srv.origin);
      const variants = [
        claimsFor(ALICE),
        { ...claimsFor(ALICE), picture: "https://img.example/a.png" },
        { email: "only@example.com", sub: "x" },
        { name: null, email: "n@example.com", sub: "n" },
        { sub: "bare" },
      ];
      for (const claims of variants) {
        const tok = await encode({ token: claims, secret: SECRET, salt: SESSION });
        const a = await sessionVia(srv, `${SESSION}=${tok}`);
        const b = await sessionVia(authjs, `${SESSION}=${tok}`);
        assert.equal(a.status, b.status);
        assert.ok(b.body, "Auth.js accepts its own token");
        assert.ok(Math.abs(Date.parse(a.body?.expires) - Date.parse(b.body.expires)) < 5000, "expires agree");
        assert.deepEqual({ ...a.body, expires: 0 }, { ...b.body, expires: 0 }, JSON.stringify(claims));
        // Re-issued claims keep the custom members.
        const re = a.cookies.find((x) => x.name === SESSION);
        const dec = await decode({ token: re.value, secret: SECRET, salt: SESSION });
        for (const k of Object.keys(claims)) assert.deepEqual(dec[k], claims[k], `claim ${k} kept`);
      }
    }));

  test("A256GCM and kid-less tokens: authc agrees with Auth.js", () =>
    withServer(async (srv) => {
      const authjs = authjsTarget(srv.origin);
      const claims = { ...claimsFor(ALICE), iat: now(), exp: now() + 600, jti: "j" };
      // [label, token, accepted by Auth.js]
      const cases = [
        ["gcm with kid", gcmToken(claims, SECRET, SESSION), true],
        ["gcm without kid", gcmToken(claims, SECRET, SESSION, { kid: false }), true],
        ["cbc without kid", cbcTokenNoKid(claims, SECRET, SESSION), true],
        ["gcm, wrong secret", gcmToken(claims, "w".repeat(40), SESSION), false],
        ["cbc, wrong salt", cbcTokenNoKid(claims, SECRET, SECURE_SESSION), false],
        ["nbf in the future", gcmToken({ ...claims, nbf: now() + 120 }, SECRET, SESSION), false],
        ["future iat", gcmToken({ ...claims, iat: now() + 3600 }, SECRET, SESSION), true],
        ["no exp", gcmToken({ name: "x", email: "e@x", sub: "y" }, SECRET, SESSION), true],
        ["exp 20 s ago", gcmToken({ ...claims, exp: now() - 20 }, SECRET, SESSION), false],
        ["exp 8 s ago", gcmToken({ ...claims, exp: now() - 8 }, SECRET, SESSION), true],
      ];
      for (const [label, tok, accepted] of cases) {
        const a = await sessionVia(srv, `${SESSION}=${tok}`);
        const b = await sessionVia(authjs, `${SESSION}=${tok}`);
        assert.equal(b.body !== null, accepted, `${label}: the reference itself (${JSON.stringify(b.body)})`);
        assert.equal(a.body !== null, accepted, `${label}: authc ${JSON.stringify(a.body)}`);
        if (accepted) assert.deepEqual({ ...a.body, expires: 0 }, { ...b.body, expires: 0 }, label);
      }
    }));

  test("chunked Auth.js session cookies are reassembled by authc", () =>
    withServer({ users: [ALICE, BIG] }, async (srv) => {
      const aj = client(authjsTarget(srv.origin, authjsConfig({ users: [ALICE, BIG] })));
      const r = await aj.signIn(BIG.username, BIG.password);
      assert.equal(r.status, 302);
      const names = aj.jar.names().filter((n) => n.startsWith(SESSION));
      assert.deepEqual(names, [SESSION + ".0", SESSION + ".1"]);
      const ck = names.map((n) => `${n}=${aj.jar.get(n)}`).join("; ");
      const s = await sessionVia(srv, ck);
      assert.equal(s.body?.user?.name, BIG.name);
    }));

  test("secret rotation: AUTH_SECRET_1 encrypts, every secret decrypts", () => {
    const S1 = "rotation-secret-one-0123456789abcdefghijkl";
    return withServer({ env: { AUTH_SECRET_1: S1 } }, async (srv) => {
      const authjs = authjsTarget(srv.origin, authjsConfig({ secret: [S1, SECRET] }));
      for (const sec of [S1, SECRET]) {
        const tok = await encode({ token: claimsFor(ALICE), secret: sec, salt: SESSION });
        const s = await sessionVia(srv, `${SESSION}=${tok}`);
        assert.equal(s.body?.user?.email, ALICE.email, `token under ${sec === S1 ? "AUTH_SECRET_1" : "AUTH_SECRET"}`);
        const re = s.cookies.find((x) => x.name === SESSION).value;
        assert.ok(await decode({ token: re, secret: S1, salt: SESSION }), "re-issued with the first secret (AUTH_SECRET_1)");
      }
      const foreign = await encode({ token: claimsFor(ALICE), secret: "z".repeat(40), salt: SESSION });
      assert.equal((await sessionVia(srv, `${SESSION}=${foreign}`)).body, null);
      // authc's sign-in token is the one Auth.js (same secret list) reads.
      const c = client(srv);
      await c.signIn();
      const tok = c.jar.get(SESSION);
      assert.equal((await decode({ token: tok, secret: S1, salt: SESSION })).sub, ALICE.id);
      assert.equal((await sessionVia(authjs, `${SESSION}=${tok}`)).body?.user?.email, ALICE.email);
      // CSRF hash over the comma-joined secret list works both ways.
      const ac = client(srv);
      const t = await ac.csrf();
      const ajc = client(authjs, ac.jar);
      const x = await ajc("/callback/credentials", { form: { username: ALICE.username, password: ALICE.password, csrfToken: t } });
      assertRedirect(x, srv.origin, "Auth.js accepts authc's CSRF cookie under rotation");
    });
  });
});

// ================================================================== (c) Auth() side by side
describe("side by side with Auth.js Auth()", () => {
  test("/providers, /csrf, /session without a cookie", () =>
    withServer(async (srv) => {
      const out = await sideBySide(srv, [
        step("providers", (c) => c("/providers")),
        step("csrf fresh", (c) => c("/csrf")),
        step("csrf again", (c) => c("/csrf")),
        step("session none", (c) => c("/session")),
        step("csrf bad query callbackUrl", (c) => c("/csrf?callbackUrl=javascript%3Aalert(1)")),
        step("csrf relative query callbackUrl", (c) => c("/csrf?callbackUrl=%2Fnext")),
      ]);
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("/session with the same cookies (valid, tampered, expired)", () =>
    withServer(async (srv) => {
      const good = await encode({ token: claimsFor(ALICE), secret: SECRET, salt: SESSION });
      const expired = await encode({ token: claimsFor(ALICE), secret: SECRET, salt: SESSION, maxAge: -100 });
      const cookieStep = (label, ck) => step(label, (c) => c("/session", { headers: { cookie: ck } }));
      const out = await sideBySide(srv, [
        cookieStep("valid", `${SESSION}=${good}`),
        cookieStep("tampered", `${SESSION}=${good.slice(0, -4)}AAAA`),
        cookieStep("expired", `${SESSION}=${expired}`),
        cookieStep("garbage", `${SESSION}=garbage`),
      ]);
      assert.deepEqual(out.authc, out.authjs);
      // Deliberate: Auth.js reads any name that starts with the session
      // cookie's as a chunk; authc only the name and name.<digits>.
      const stray = await fetch(srv.url("/session"), { headers: { cookie: `${SESSION}-foo=${good}` } });
      assert.equal(await stray.text(), "null");
    }));

  test("credentials sign-in, errors and X-Auth-Return-Redirect", () =>
    withServer(async (srv) => {
      const signIn = (extra, headers) => async (c) =>
        c("/callback/credentials", { form: { username: ALICE.username, password: ALICE.password, csrfToken: await c.csrf(), ...extra }, headers });
      const XR = { "x-auth-return-redirect": "1" };
      const out = await sideBySide(srv, [
        step("wrong password", signIn({ password: "nope" })),
        step("wrong password XR", signIn({ password: "nope" }, XR)),
        step("missing csrf", (c) => c("/callback/credentials", { form: { username: "alice", password: PASSWORD } })),
        step("missing csrf XR", (c) => c("/callback/credentials", { form: { username: "alice", password: PASSWORD }, headers: XR })),
        step("GET callback", (c) => c("/callback/credentials")),
        step("GET signin/credentials", (c) => c("/signin/credentials")),
        step("POST signin", async (c) => c("/signin", { form: { csrfToken: await c.csrf() } })),
        step("POST signin/credentials", async (c) => c("/signin/credentials", { form: { csrfToken: await c.csrf() } })),
        step("POST csrf", async (c) => c("/csrf", { form: { csrfToken: await c.csrf() } })),
        step("success relative", signIn({ callbackUrl: "/dash" })),
        step("session", (c) => c("/session")),
        step("success off-origin XR", signIn({ callbackUrl: "https://evil.example/" }, XR)),
        step("success protocol-relative", signIn({ callbackUrl: "//evil.example/" })),
        step("success same-origin absolute", signIn({ callbackUrl: srv.origin + "/a?b=c" })),
        step("success json", async (c) => c("/callback/credentials", { json: { username: ALICE.username, password: PASSWORD, csrfToken: await c.csrf() } })),
      ]);
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("session update and sign-out", () =>
    withServer(async (srv) => {
      const out = await sideBySide(srv, [
        step("update without csrf", (c) => c("/session", { json: { data: {} } })),
        step("update with csrf, no session", async (c) => c("/session", { json: { csrfToken: await c.csrf(), data: {} } })),
        step("signout no session", async (c) => c("/signout", { form: { csrfToken: await c.csrf() } })),
        step("sign in", async (c) => c.signIn()),
        step("update with csrf", async (c) => c("/session", { json: { csrfToken: await c.csrf(), data: { a: 1 } } })),
        step("signout without csrf", (c) => c("/signout", { form: {} })),
        step("signout XR", async (c) => c("/signout", { form: { csrfToken: await c.csrf(), callbackUrl: "/bye" }, headers: { "x-auth-return-redirect": "1" } })),
        step("session after", (c) => c("/session")),
      ]);
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("pages, error statuses and bad routes", () =>
    withServer(async (srv) => {
      const get = (p, headers) => step(p, (c) => c(p, { headers }));
      const steps = [
        "/signin", "/signin?error=CredentialsSignin", "/signout", "/verify-request", "/error", "/error?error=Configuration",
        "/error?error=AccessDenied", "/error?error=Verification", "/error?error=Nope", "/signin?callbackUrl=foo",
        "/foo", "/session/x", "/providers/credentials", "/callback", "/signin/undefined",
      ].map((p) => get(p));
      steps.push(step("PUT session", (c) => c("/session", { method: "PUT" })));
      steps.push(step("DELETE signin", (c) => c("/signin", { method: "DELETE" })));
      const out = await sideBySide(srv, steps);
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("bare /auth → 400 like Auth.js", () =>
    withServer(async (srv) => {
      const out = await sideBySide(srv, [
        step("/auth", (c) => c(srv.origin + "/auth")),
        step("/auth/", (c) => c(srv.origin + "/auth/")),
      ]);
      assert.deepEqual(out.authc, out.authjs);
    }));

  // Chunk sizes depend on the token's length: give Auth.js a claim of the
  // same size as authc's own "authc" claim ({sid: 22 chars, iat: ms, p}).
  const withAuthcClaim = (cfg) => ({
    ...cfg,
    callbacks: {
      jwt({ token, user }) {
        if (user) token.authc = { sid: "s".repeat(22), iat: Date.now(), p: "credentials" };
        return token;
      },
    },
  });

  test("chunked sign-in and shrink: same cookie names and attributes", () =>
    withServer({ users: [ALICE, BIG] }, async (srv) => {
      const out = await sideBySide(srv, [
        step("big sign-in", (c) => c.signIn(BIG.username, BIG.password)),
        step("big session", (c) => c("/session")),
        step("small sign-in", (c) => c.signIn(ALICE.username, ALICE.password)),
        step("big again", (c) => c.signIn(BIG.username, BIG.password)),
        step("signout", async (c) => c("/signout", { form: { csrfToken: await c.csrf() } })),
      ], { authjs: authjsTarget(srv.origin, withAuthcClaim(authjsConfig({ users: [ALICE, BIG] }))) });
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("secure mode (https AUTH_URL vs https request URL)", () =>
    withServer({ env: { AUTH_URL: "https://auth.example.test/auth" } }, async (srv) => {
      const out = await sideBySide(srv, [
        step("providers", (c) => c("/providers")),
        step("csrf", (c) => c("/csrf")),
        step("sign in", (c) => c.signIn()),
        step("session", (c) => c("/session")),
        step("signout", async (c) => c("/signout", { form: { csrfToken: await c.csrf() } })),
      ], { authjs: authjsTarget("https://auth.example.test") });
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("CSRF cookies cross over: Auth.js-minted accepted by authc and vice versa", () =>
    withServer(async (srv) => {
      const authjs = authjsTarget(srv.origin);
      // The CSRF pair minted by `minter` signs alice in on `verifier`;
      // returns the client of `verifier` holding the session.
      const crossSignIn = async (minter, verifier, what) => {
        const m = client(minter);
        const csrfToken = await m.csrf();
        const on = client(verifier, m.jar);
        const r = await on("/callback/credentials", { form: { username: ALICE.username, password: PASSWORD, csrfToken } });
        assertRedirect(r, srv.origin);
        assert.ok(cookieMap(r).get(SESSION)?.value, what);
        return on;
      };
      // Auth.js mints, authc verifies.
      const onAuthc = await crossSignIn(authjs, srv, "authc signed in with Auth.js's CSRF pair");
      // authc mints, Auth.js verifies.
      await crossSignIn(srv, authjs, "Auth.js signed in with authc's CSRF pair");
      // Sessions cross over too.
      assert.equal((await (await onAuthc("/session")).json()).user.email, ALICE.email);
    }));

  test("custom pages (pages.signIn/error/signOut/verifyRequest): same redirects", () =>
    withServer({ env: { AUTHC_PAGES_SIGNIN: "/login", AUTHC_PAGES_ERROR: "/oops", AUTHC_PAGES_SIGNOUT: "/bye", AUTHC_PAGES_VERIFY_REQUEST: "/check" } }, async (srv) => {
      const cfg = authjsConfig();
      cfg.pages = { signIn: "/login", error: "/oops", signOut: "/bye", verifyRequest: "/check" };
      const XR = { "x-auth-return-redirect": "1" };
      const out = await sideBySide(srv, [
        step("signin page", (c) => c("/signin?callbackUrl=%2Fx")),
        step("signin page with error", (c) => c("/signin?error=CredentialsSignin")),
        step("signout page", (c) => c("/signout")),
        step("verify-request", (c) => c("/verify-request?provider=e&type=email")),
        step("error page", (c) => c("/error?error=AccessDenied")),
        step("wrong password", async (c) => c.signIn(ALICE.username, "nope")),
        step("wrong password XR", async (c) => c("/callback/credentials", { form: { username: "alice", password: "x", csrfToken: await c.csrf() }, headers: XR })),
        step("missing csrf", (c) => c("/signin", { form: {} })),
        step("unknown action", (c) => c("/signin/credentials")),
        step("unknown action XR", (c) => c("/signin/credentials", { headers: XR })),
        step("bad query callbackUrl on a page", (c) => c("/signin?callbackUrl=foo")),
        step("bad query callbackUrl on error", (c) => c("/error?callbackUrl=foo")),
      ], { authjs: authjsTarget(srv.origin, cfg) });
      assert.deepEqual(out.authc, out.authjs);
    }));

  test("body callbackUrl that is neither a path nor a URL → Configuration, like Auth.js", () =>
    withServer(async (srv) => {
      const out = await sideBySide(srv, [
        step("sign-in with callbackUrl=foo", (c) => c.signIn(ALICE.username, PASSWORD, { callbackUrl: "foo" })),
        step("sign-out with callbackUrl=foo", async (c) => c("/signout", { form: { csrfToken: await c.csrf(), callbackUrl: "foo" } })),
      ]);
      assert.deepEqual(out.authc, out.authjs);
    }));
});

// ================================================================== documented differences
// Each row of docs/compatibility.md that is observable over HTTP: Auth.js's
// behaviour is checked too, so the table cannot go stale silently.
describe("deliberate differences (docs/compatibility.md)", () => {
  test("a bad callback-url cookie locks Auth.js out, not authc", () =>
    withServer(async (srv) => {
      const bad = "authjs.callback-url=javascript%3Aalert(1)";
      const aj = await authjsTarget(srv.origin).fetch(srv.url("/session"), { headers: { cookie: bad } });
      assert.equal(aj.status, 500, "Auth.js: InvalidCallbackUrl on every request");
      const ours = await fetch(srv.url("/session"), { headers: { cookie: bad } });
      assert.equal(ours.status, 200, "authc ignores the bad cookie");
      assert.equal(await ours.text(), "null");
      const cb = cookieMap(ours).get("authjs.callback-url");
      assert.ok(cb, "and replaces it");
      assert.equal(decodeURIComponent(cb.value), srv.origin);
    }));

  test("relative callbackUrl: backslash, space and control characters", () =>
    withServer(async (srv) => {
      const authjs = authjsTarget(srv.origin);
      const loc = async (t, cb) => (await client(t).signIn(ALICE.username, PASSWORD, { callbackUrl: cb })).headers.get("location");
      assert.equal(await loc(authjs, "/\\evil.example"), srv.origin + "/\\evil.example", "Auth.js keeps the backslash");
      assert.equal(await loc(srv, "/\\evil.example"), srv.origin + "/%5Cevil.example");
      assert.equal(await loc(srv, "/a b"), srv.origin + "/a%20b");
      for (const cb of ["/x\r\nSet-Cookie: a=b", "/x\ty", "/\u0000"]) assert.equal(await loc(srv, cb), srv.origin, JSON.stringify(cb));
    }));

  test("JSON body with duplicate keys is ignored (Auth.js: last wins)", () =>
    withServer(async (srv) => {
      const send = async (t) => {
        const c = client(t);
        const tok = await c.csrf();
        return c("/signin", { method: "POST", body: `{"csrfToken":"bad","csrfToken":"${tok}"}`, headers: { "content-type": "application/json" } });
      };
      assert.equal((await send(authjsTarget(srv.origin))).headers.get("location"), srv.url("/signin"));
      assert.equal((await send(srv)).headers.get("location"), srv.url("/signin?error=MissingCSRF"));
    }));

  test("JWE headers with typ/cty are refused (Auth.js accepts them)", () =>
    withServer(async (srv) => {
      const key = hkdf(SECRET, SESSION, 32);
      const claims = { ...claimsFor(ALICE), iat: now(), exp: now() + 600 };
      const tok = (extra) => {
        const h = b64u(JSON.stringify({ alg: "dir", enc: "A256GCM", kid: thumbprint(key), ...extra }));
        const iv = randomBytes(12);
        const c = createCipheriv("aes-256-gcm", key, iv);
        c.setAAD(Buffer.from(h));
        const ct = Buffer.concat([c.update(JSON.stringify(claims)), c.final()]);
        return [h, "", b64u(iv), b64u(ct), b64u(c.getAuthTag())].join(".");
      };
      const authjs = authjsTarget(srv.origin);
      for (const extra of [{ typ: "JWT" }, { cty: "JWT" }]) {
        const t = tok(extra);
        assert.equal((await sessionVia(authjs, `${SESSION}=${t}`)).body?.user?.email, ALICE.email, `Auth.js accepts ${JSON.stringify(extra)}`);
        assert.equal((await sessionVia(srv, `${SESSION}=${t}`)).body, null, `authc refuses ${JSON.stringify(extra)}`);
      }
      assert.equal((await sessionVia(srv, `${SESSION}=${tok({})}`)).body?.user?.email, ALICE.email, "control: the plain header is accepted");
    }));

  test("AUTH_URL without a path keeps the base path /auth", () =>
    withServer({ env: { AUTH_URL: "http://public.example.test" } }, async (srv) => {
      const pr = await (await fetch(srv.url("/providers"))).json();
      assert.equal(pr.credentials.signinUrl, "http://public.example.test/auth/signin/credentials");
    }));

  test("pages.error with a query: authc joins with &, Auth.js with a second ?", () =>
    withServer({ env: { AUTHC_PAGES_ERROR: "/oops?x=1" } }, async (srv) => {
      const cfg = authjsConfig();
      cfg.pages = { error: "/oops?x=1" };
      const authjs = authjsTarget(srv.origin, cfg);
      const loc = async (t) => (await client(t)("/signin/credentials")).headers.get("location");
      assert.equal(await loc(authjs), srv.origin + "/oops?x=1?error=Configuration");
      assert.equal(await loc(srv), srv.origin + "/oops?x=1&error=Configuration");
      // GET /error without ?error=: Auth.js writes the JS value "undefined"; so do we.
      const e = async (t) => (await client(t)("/error")).headers.get("location");
      assert.equal(await e(authjs), "/oops?x=1&error=undefined");
      assert.equal(await e(srv), "/oops?x=1&error=undefined");
    }));
});
