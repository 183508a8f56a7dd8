// revoke.test.mjs — revocable sessions across two `authc serve` instances
// sharing PostgreSQL (lifecycle.md §2 back-channel, §3): sign-out kills
// copies, /sessions/revoke, Auth.js round-trips the "authc" claim, and
// back-channel logout from a real oidc-provider for JWT and DB sessions,
// sharing PostgreSQL and again Redis.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { decode, encode } from "@auth/core/jwt";
import { ALICE, CookieJar, SECRET, client, freePort, runAuthc, startServer } from "./lib/server.mjs";
import { startPostgres, startRedis } from "./lib/db-servers.mjs";
import { authjsTarget } from "./lib/authjs.mjs";
import { Browser, jwsClaims, loginAtProvider, newSigningKey, startOidcFront } from "./lib/oauth-servers.mjs";

const SESSION = "authjs.session-token";

// Polls cond until it holds: a revocation reaches another instance within
// its ≤ 2 s cache, so a bound, never a timing assertion.
async function until(cond, what, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A client on srv with a copy of jar's cookies.
const copyOn = (srv, jar) => {
  const j = new CookieJar();
  for (const [k, v] of jar.map) j.set(k, v);
  return client(srv, j);
};

async function sessionOf(c) {
  const r = await c("/session");
  assert.equal(r.status, 200);
  return JSON.parse(await r.text());
}

let pg;
before(async () => {
  pg = await startPostgres();
  const m = runAuthc(["migrate"], { usersFile: false, env: { AUTHC_DATABASE: pg.url } });
  assert.equal(m.status, 0, m.stderr);
});
after(async () => { await pg?.close(); });

describe("JWT sessions over two instances sharing PostgreSQL", () => {
  let s1, s2;
  before(async () => {
    const env = { AUTHC_STORE: pg.url };
    [s1, s2] = await Promise.all([startServer({ env }), startServer({ env })]);
  });
  after(async () => { await s1?.stop(); await s2?.stop(); });

  test("sign-out kills a copied cookie on both instances; signing in again works", async () => {
    const a = client(s1);
    assert.equal((await a.signIn()).status, 302);
    assert.equal((await sessionOf(a)).user.email, ALICE.email);
    const copy1 = copyOn(s1, a.jar), copy2 = copyOn(s2, a.jar);
    const r = await a("/signout", { form: { csrfToken: await a.csrf() } });
    assert.equal(r.status, 302);
    assert.equal(await sessionOf(copy1), null);
    assert.equal(await sessionOf(copy2), null);
    assert.equal(copy2.jar.get(SESSION), undefined, "the dead copy is cleared");
    const b = client(s2);
    assert.equal((await b.signIn()).status, 302);
    assert.equal((await sessionOf(copyOn(s1, b.jar))).user.email, ALICE.email);
  });

  test("sessions/revoke: CSRF, no session, others, all", async () => {
    const anon = client(s1);
    let r = await anon("/sessions/revoke", { form: { csrfToken: await anon.csrf(), scope: "all" } });
    assert.equal(r.status, 401);
    assert.deepEqual(await r.json(), { error: "SessionRequired" });
    const a = client(s1), b = client(s1);
    await a.signIn();
    await b.signIn();
    r = await a("/sessions/revoke", { form: { csrfToken: "wrong", scope: "all" } });
    assert.equal(r.status, 403);
    assert.deepEqual(await r.json(), { error: "MissingCSRF" });
    const onS2 = copyOn(s2, a.jar);
    r = await onS2("/sessions/revoke", { json: { csrfToken: await onS2.csrf(), scope: "others" } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { revoked: "others" });
    assert.equal((await sessionOf(onS2)).user.email, ALICE.email, "this browser stays signed in");
    await until(async () => (await sessionOf(copyOn(s1, b.jar))) === null, "the other browser is signed out on s1");
    assert.equal(await sessionOf(copyOn(s2, b.jar)), null);
    assert.equal(await sessionOf(copyOn(s1, a.jar)), null, "the old cookie of this browser is dead too");
    r = await onS2("/sessions/revoke", { form: { csrfToken: await onS2.csrf(), scope: "all" } });
    assert.deepEqual(await r.json(), { revoked: "all" });
    assert.equal(await sessionOf(onS2), null);
    const again = client(s1);
    await again.signIn();
    assert.equal((await sessionOf(copyOn(s2, again.jar))).user.email, ALICE.email, "a sign-in after a revocation works");
  });

  test("an Auth.js peer with the same secret decodes, re-encodes and keeps the authc claim", async () => {
    const a = client(s1);
    await a.signIn();
    const claims = await decode({ token: a.jar.get(SESSION), secret: SECRET, salt: SESSION });
    assert.equal(typeof claims.authc?.sid, "string");
    assert.equal(typeof claims.authc?.iat, "number");
    assert.equal(claims.authc.p, "credentials");
    // Auth.js's own /session re-issues the cookie; authc still accepts it.
    const peer = copyOn(authjsTarget(s1.origin), a.jar);
    const r = await peer("/session");
    assert.equal((await r.json()).user.email, ALICE.email);
    const back = await decode({ token: peer.jar.get(SESSION), secret: SECRET, salt: SESSION });
    assert.deepEqual(back.authc, claims.authc, "the claim survives Auth.js's re-encode");
    const viaAuthjs = copyOn(s2, peer.jar);
    assert.equal((await sessionOf(viaAuthjs)).user.email, ALICE.email);
    // ...and revoking the session still reaches the re-encoded copy.
    await a("/signout", { form: { csrfToken: await a.csrf() } });
    await until(async () => (await sessionOf(copyOn(s2, peer.jar))) === null, "the Auth.js copy dies");
    // A cookie Auth.js minted itself (no authc claim) is accepted.
    const own = await encode({ token: { sub: ALICE.id, email: ALICE.email, name: ALICE.name }, secret: SECRET, salt: SESSION });
    const j = new CookieJar();
    j.set(SESSION, own);
    assert.equal((await sessionOf(client(s2, j))).user.email, ALICE.email);
  });
});

// A relay in front of authc's back-channel URL that keeps every logout
// token it forwards (to replay one).
async function startRelay() {
  const port = await freePort();
  const relay = { target: null, tokens: [], url: `http://127.0.0.1:${port}/bcl` };
  relay.server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      relay.tokens.push(new URLSearchParams(body).get("logout_token"));
      const r = await fetch(relay.target, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
      res.writeHead(r.status).end(await r.text());
    });
  });
  await new Promise((r) => relay.server.listen(port, "127.0.0.1", r));
  return relay;
}

for (const [kind, strategy] of [["postgres", "jwt"], ["postgres", "database"], ["redis", "jwt"], ["redis", "database"]]) {
  describe(`back-channel logout from oidc-provider (${strategy} sessions, sharing ${kind})`, () => {
    const CLIENT_ID = "revoke-e2e", CLIENT_SECRET = "revoke-e2e-secret-0123456789";
    let front, relay, s1, s2, idToken, rd;
    before(async () => {
      front = await startOidcFront();
      relay = await startRelay();
      rd = kind === "redis" ? await startRedis(`bcl${strategy}:`) : null;
      const url = rd ? rd.url : pg.url;
      const env = {
        AUTH_OIDC_ISSUER: front.issuer, AUTH_OIDC_ID: CLIENT_ID, AUTH_OIDC_SECRET: CLIENT_SECRET,
        AUTHC_STORE: url, AUTHC_SESSION_STRATEGY: strategy,
        ...(strategy === "database" ? { AUTHC_DATABASE: url } : {}),
      };
      [s1, s2] = await Promise.all([startServer({ env, usersFile: false }), startServer({ env, usersFile: false })]);
      relay.target = s1.url("/backchannel-logout/oidc");
      await front.setProvider({
        redirectUris: [s1.url("/callback/oidc")], keys: [newSigningKey()], clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
        client: { backchannel_logout_uri: relay.url, backchannel_logout_session_required: true },
        options: {
          features: { devInteractions: { enabled: true }, backchannelLogout: { enabled: true } },
          // The provider's SSRF guard refuses loopback; the relay is one.
          fetch: (url, o) => fetch(url, { ...o, dispatcher: undefined }),
        },
      });
      front.rewriteToken = async (json) => { idToken = json.id_token; return json; };
    });
    after(async () => {
      await s1?.stop(); await s2?.stop();
      relay?.server.close();
      await front?.stop();
      await rd?.close();
    });

    async function signIn() {
      const b = new Browser();
      const csrf = JSON.parse((await b.request(s1.url("/csrf"))).text).csrfToken;
      const r = await b.request(s1.url("/signin/oidc"), { method: "POST", form: { csrfToken: csrf, callbackUrl: s1.origin } });
      const cb = await loginAtProvider(b, r.location, "carol", s1.url("/callback/oidc"));
      const done = await b.request(cb);
      assert.equal(done.status, 302, done.text);
      return b;
    }
    const sessionAt = async (b, srv) => JSON.parse((await b.request(srv.url("/session"))).text);

    test("ends the provider session on both instances; replayed and malformed tokens get 400", async () => {
      const b = await signIn();
      const b2 = new Browser();
      b2.cookies = new Map(b.cookies);
      assert.equal((await sessionAt(b2, s2)).user.email, "carol@idp.example");
      const { sub, sid } = jwsClaims(idToken);
      assert.ok(sid, "oidc-provider put a sid in the id_token");
      const client = await front.provider.Client.find(CLIENT_ID);
      await client.backchannelLogout(sub, sid); // throws unless authc answered 200
      assert.equal(relay.tokens.length, 1);
      await until(async () => (await sessionAt(b2, s2)) === null, "the session ends on s2");
      const b3 = new Browser();
      b3.cookies = new Map(b.cookies);
      assert.equal(await sessionAt(b3, s1), null);
      // The same token again: refused, naming the check.
      const again = await fetch(relay.target, { method: "POST", body: new URLSearchParams({ logout_token: relay.tokens[0] }) });
      assert.equal(again.status, 400);
      assert.equal(again.headers.get("cache-control"), "no-store");
      assert.deepEqual(await again.json(), { error: "invalid_request", error_description: "jti replayed" });
      for (const bad of ["", "not.a.jwt", idToken]) {
        const r = await fetch(relay.target, { method: "POST", body: new URLSearchParams({ logout_token: bad }) });
        assert.equal(r.status, 400, bad);
        const j = await r.json();
        assert.equal(j.error, "invalid_request");
        assert.ok(j.error_description.length > 0);
      }
      const unknown = await fetch(s1.url("/backchannel-logout/nope"), { method: "POST", body: new URLSearchParams({ logout_token: "x" }) });
      assert.equal(unknown.status, 404);
      // A sign-in after the logout is not affected.
      const fresh = await signIn();
      const f2 = new Browser();
      f2.cookies = new Map(fresh.cookies);
      assert.equal((await sessionAt(f2, s2)).user.email, "carol@idp.example");
    });
  });
}
