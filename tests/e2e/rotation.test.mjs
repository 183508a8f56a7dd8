// rotation.test.mjs — access-token rotation (AUTHC_REFRESH_TOKENS), GET /token
// and RP-initiated logout against a real oidc-provider that rotates refresh
// tokens; two `authc serve` instances sharing PostgreSQL, then Redis. Issue 11.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { decode } from "@auth/core/jwt";
import { SECRET, startServer } from "./lib/server.mjs";
import { startPostgres, startRedis } from "./lib/db-servers.mjs";
import { browserSignIn, browserSignOut, logoutAtProvider, newSigningKey, startOidcFront } from "./lib/oauth-servers.mjs";

const CLIENT_ID = "authc-rotation";
const CLIENT_SECRET = "rotation-secret-0123456789";
const COOKIE = "authjs.session-token";

// The provider: refresh tokens on every code grant, rotated on each use;
// a consumed refresh token presented again revokes its whole grant
// (oidc-provider's refresh_token grant does that on reuse).
function providerOptions() {
  return {
    client: {
      grant_types: ["authorization_code", "refresh_token"],
      post_logout_redirect_uris: [],
    },
    options: {
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true }, revocation: { enabled: true } },
      issueRefreshToken: async () => true,
      rotateRefreshToken: true,
      ttl: { IdToken: 3600, AccessToken: 60, RefreshToken: 86400, Grant: 86400, Session: 3600, Interaction: 600 },
    },
  };
}

const claimsOf = (jwt) => decode({ token: jwt, secret: SECRET, salt: COOKIE });

for (const kind of ["postgres", "redis"]) {
  describe(`refresh-token rotation, two instances sharing ${kind}`, () => {
    let front, db, a, b;
    const env = () => ({
      AUTH_OIDC_ISSUER: front.issuer, AUTH_OIDC_ID: CLIENT_ID, AUTH_OIDC_SECRET: CLIENT_SECRET,
      AUTH_OIDC_FEDERATED_SIGNOUT: "1",
      AUTHC_STORE: db.url, AUTHC_REFRESH_TOKENS: "1", AUTHC_TOKEN_ENDPOINT: "1",
      AUTHC_FORWARD_PASS_ACCESS_TOKEN: "1",
      // Every access token of 60 s is due at once: each request with a
      // given cookie must refresh.
      AUTHC_REFRESH_BEFORE: "3600",
    });

    before(async () => {
      front = await startOidcFront();
      db = kind === "postgres" ? await startPostgres() : await startRedis(`rot${Date.now()}:`);
      a = await startServer({ env: env() });
      b = await startServer({ env: env() });
      const o = providerOptions();
      o.client.redirect_uris = [a.url("/callback/oidc"), b.url("/callback/oidc")];
      o.client.post_logout_redirect_uris = [a.url("/signout/callback/oidc")];
      await front.setProvider({ redirectUris: o.client.redirect_uris, keys: [newSigningKey("rot-1")],
        clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, client: o.client, options: o.options });
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
      await front?.stop();
      await db?.close();
    });

    const signIn = (login) => browserSignIn(a, login);

    async function get(srv, path, cookie, headers = {}) {
      const r = await fetch(srv.url(path), { headers: { cookie: `${COOKIE}=${cookie}`, ...headers } });
      const set = r.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
      const text = await r.text();
      return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : null, cookie: set?.split(";")[0].slice(COOKIE.length + 1) };
    }

    test("sign-in keeps access_token, expires_at and refresh_token in the JWT", async () => {
      const br = await signIn("rot-keep");
      const c = await claimsOf(br.get(COOKIE));
      assert.equal(typeof c.access_token, "string");
      assert.equal(typeof c.refresh_token, "string");
      assert.equal(typeof c.expires_at, "number");
      assert.equal(c.provider, "oidc");
      assert.equal(typeof c.id_token, "string", "kept for RP-initiated logout");
    });

    test("30 concurrent GET /session over both instances: one grant, one new token for all", async () => {
      const br = await signIn("rot-many");
      const old = br.get(COOKIE);
      const before0 = await claimsOf(old);
      const grants0 = front.hits.token;
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => get(i % 2 ? a : b, "/session", old)));
      assert.equal(front.hits.token - grants0, 1, "exactly one refresh grant at the provider");
      const tokens = new Set();
      for (const r of rs) {
        assert.equal(r.status, 200);
        assert.equal(r.json.error, undefined);
        assert.ok(r.cookie, "a new cookie");
        const c = await claimsOf(r.cookie);
        tokens.add(`${c.access_token} ${c.refresh_token}`);
      }
      assert.equal(tokens.size, 1, "everyone got the same new tokens");
      const [at, rt] = [...tokens][0].split(" ");
      assert.notEqual(at, before0.access_token);
      assert.notEqual(rt, before0.refresh_token, "the provider rotated the refresh token");

      // The old cookie again, inside the successor window: no grant.
      const g1 = front.hits.token;
      const again = await get(a, "/session", old);
      assert.equal(front.hits.token, g1, "no grant for an old cookie within the window");
      assert.equal((await claimsOf(again.cookie)).access_token, at);

      // GET /token with the new cookie: refreshes (always due here), answers the token.
      const t = await get(b, "/token?provider=oidc", rs[0].cookie);
      assert.equal(t.status, 200);
      assert.equal(t.headers.get("cache-control"), "no-store");
      assert.equal(t.json.provider, "oidc");
      assert.equal(typeof t.json.access_token, "string");
      assert.equal(typeof t.json.expires_at, "number");
      assert.equal((await claimsOf(t.cookie)).access_token, t.json.access_token);
    });

    test("forward-auth refreshes first and passes the new access token upstream", async () => {
      const br = await signIn("rot-forward");
      const old = await claimsOf(br.get(COOKIE));
      const r = await get(b, "/forward", br.get(COOKIE), { "x-forwarded-method": "GET",
        "x-forwarded-proto": "http", "x-forwarded-host": "app.test", "x-forwarded-uri": "/page" });
      assert.equal(r.status, 200);
      const at = r.headers.get("x-auth-request-access-token");
      assert.ok(at);
      assert.notEqual(at, old.access_token, "a refreshed token");
      assert.equal((await claimsOf(r.cookie)).access_token, at, "the one the new cookie carries");
    });

    test("/token: 401 without a session, 404 for an unknown provider, 403 cross-site", async () => {
      const none = await fetch(a.url("/token?provider=oidc"));
      assert.equal(none.status, 401);
      assert.deepEqual(await none.json(), { error: "SessionRequired" });
      const br = await signIn("rot-token");
      const unknown = await get(a, "/token?provider=nope", br.get(COOKIE));
      assert.equal(unknown.status, 404);
      const cross = await fetch(a.url("/token?provider=oidc"),
        { headers: { cookie: `${COOKIE}=${br.get(COOKIE)}`, "sec-fetch-site": "cross-site" } });
      assert.equal(cross.status, 403);
    });

    test("a refresh token the provider revoked gives RefreshTokenError, once", async () => {
      const br = await signIn("rot-dead");
      const c = await claimsOf(br.get(COOKIE));
      const rev = await fetch(`${front.issuer}/token/revocation`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded",
                   authorization: "Basic " + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64") },
        body: new URLSearchParams({ token: c.refresh_token, token_type_hint: "refresh_token" }),
      });
      assert.equal(rev.status, 200);
      const r = await get(a, "/session", br.get(COOKIE));
      assert.equal(r.status, 200);
      assert.equal(r.json.error, "RefreshTokenError");
      assert.ok(r.json.user, "the session itself stays");
      const dead = await claimsOf(r.cookie);
      assert.equal(dead.refresh_token, undefined, "the dead token is dropped");
      const g = front.hits.token;
      const again = await get(b, "/session", r.cookie);
      assert.equal(again.json.error, "RefreshTokenError");
      assert.equal(front.hits.token, g, "never presented again");
      const t = await get(b, "/token?provider=oidc", r.cookie);
      assert.equal(t.status, 401);
      assert.deepEqual(t.json, { error: "RefreshTokenError" });
    });

    test("RP-initiated logout: end_session with id_token_hint and state, back to callbackUrl", async () => {
      const br = await signIn("rot-logout");
      const r = await browserSignOut(br, a, a.origin + "/bye");
      assert.equal(r.status, 200, r.text);
      const u = new URL(JSON.parse(r.text).url);
      assert.equal(u.origin, front.issuer);
      assert.equal(u.searchParams.get("client_id"), CLIENT_ID);
      assert.equal(u.searchParams.get("post_logout_redirect_uri"), a.url("/signout/callback/oidc"));
      assert.ok(u.searchParams.get("id_token_hint"));
      assert.ok(u.searchParams.get("state"));
      assert.equal(br.get(COOKIE), undefined, "signed out locally");
      // The provider's confirmation form, then back to authc.
      const next = await logoutAtProvider(br, u.toString(), a.url("/signout/callback/oidc"));
      assert.equal(new URL(next).searchParams.get("state"), u.searchParams.get("state"));
      const back = await br.request(next);
      assert.equal(back.status, 302);
      assert.equal(back.location, a.origin + "/bye");
      // A replayed or forged state goes to the origin only.
      const forged = await br.request(a.url("/signout/callback/oidc?state=forged"));
      assert.equal(forged.location, a.origin + "/");
      const unknown = await br.request(a.url("/signout/callback/nope?state=x"));
      assert.equal(unknown.status, 404);
    });
  });
}
