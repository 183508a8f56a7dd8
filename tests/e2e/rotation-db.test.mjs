// rotation-db.test.mjs — access-token rotation and RP-initiated logout for
// DATABASE sessions (tokens in the accounts row) against a real oidc-provider
// that rotates refresh tokens; two `authc serve` instances sharing
// PostgreSQL, then Redis, as database and store. Issue 11.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runAuthc, startServer } from "./lib/server.mjs";
import { startPostgres, startRedis } from "./lib/db-servers.mjs";
import { browserSignIn, browserSignOut, jwsClaims, logoutAtProvider, newSigningKey, startOidcFront } from "./lib/oauth-servers.mjs";

const CLIENT_ID = "authc-rotation-db";
const CLIENT_SECRET = "rotation-db-secret-0123456789";
const COOKIE = "authjs.session-token";

for (const kind of ["postgres", "redis"]) {
  describe(`database sessions: token rotation, two instances sharing ${kind}`, () => {
    let front, db, a, b;
    // The next code grant's access token expires at once (the provider's
    // own tokens live an hour): the sign-in leaves an expired token.
    let expireNext = false;

    before(async () => {
      front = await startOidcFront();
      db = kind === "postgres" ? await startPostgres() : await startRedis(`rotdb${Date.now()}:`);
      const env = {
        AUTH_OIDC_ISSUER: front.issuer, AUTH_OIDC_ID: CLIENT_ID, AUTH_OIDC_SECRET: CLIENT_SECRET,
        AUTH_OIDC_FEDERATED_SIGNOUT: "1", AUTHC_SESSION_STRATEGY: "database",
        AUTHC_DATABASE: db.url, AUTHC_STORE: db.url,
        AUTHC_REFRESH_TOKENS: "1", AUTHC_TOKEN_ENDPOINT: "1", AUTHC_REFRESH_BEFORE: "60",
        AUTHC_FORWARD_PASS_ACCESS_TOKEN: "1",
      };
      const m = runAuthc(["migrate"], { usersFile: false, env });
      assert.equal(m.status, 0, m.stderr);
      [a, b] = await Promise.all([startServer({ env, usersFile: false }), startServer({ env, usersFile: false })]);
      await front.setProvider({
        redirectUris: [a.url("/callback/oidc")], keys: [newSigningKey("rotdb-1")],
        clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
        client: { grant_types: ["authorization_code", "refresh_token"],
                  post_logout_redirect_uris: [a.url("/signout/callback/oidc")] },
        options: {
          features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true }, revocation: { enabled: true } },
          issueRefreshToken: async () => true,
          rotateRefreshToken: true,
          ttl: { IdToken: 3600, AccessToken: 3600, RefreshToken: 86400, Grant: 86400, Session: 3600, Interaction: 600 },
        },
      });
      front.rewriteToken = async (json) => {
        if (expireNext && json.id_token) {
          expireNext = false;
          json.expires_in = 1;
        }
        return json;
      };
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
      await front?.stop();
      await db?.close();
    });

    async function signIn(login, { expired = true } = {}) {
      expireNext = expired;
      const br = await browserSignIn(a, login);
      assert.ok(br.get(COOKIE), "a database session cookie");
      return br;
    }

    async function get(srv, path, cookie) {
      const r = await fetch(srv.url(path), { headers: { cookie: `${COOKIE}=${cookie}` } });
      return { status: r.status, headers: r.headers, json: await r.json() };
    }

    // The refresh token stored in the user's accounts row (read directly).
    async function storedRefreshToken(login) {
      if (kind === "postgres") {
        const rows = await db.query(`SELECT refresh_token FROM accounts WHERE "providerAccountId" = '${login}'`);
        return rows[0]?.[0];
      }
      return JSON.parse(await db.cmd("GET", `${db.prefix}user:account:oidc:${login}`)).refresh_token;
    }

    test("30 concurrent GET /token over both instances at an expired access token: one grant, one token", async () => {
      const br = await signIn("rdb-many");
      const cookie = br.get(COOKIE);
      const rt0 = await storedRefreshToken("rdb-many");
      assert.ok(rt0, "the refresh token is kept in the accounts row");
      const grants0 = front.hits.token;
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => get(i % 2 ? a : b, "/token?provider=oidc", cookie)));
      assert.equal(front.hits.token - grants0, 1, "exactly one refresh grant at the provider");
      const tokens = new Set();
      for (const r of rs) {
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.headers.get("cache-control"), "no-store");
        assert.equal(r.json.provider, "oidc");
        assert.ok(r.json.expires_at > Date.now() / 1000 + 60, "a fresh token");
        tokens.add(r.json.access_token);
      }
      assert.equal(tokens.size, 1, "everyone got the same new access token");
      const rt1 = await storedRefreshToken("rdb-many");
      assert.notEqual(rt1, rt0, "the row holds the rotated refresh token");
      // Not due any more: the session and the token come without a grant.
      const g = front.hits.token;
      const s = await get(a, "/session", cookie);
      assert.equal(s.status, 200);
      assert.equal(s.json.error, undefined);
      assert.equal(s.json.user.email, "rdb-many@idp.example");
      const t = await get(b, "/token?provider=oidc", cookie);
      assert.equal(t.json.access_token, [...tokens][0]);
      assert.equal(front.hits.token, g, "no grant for a fresh token");
    });

    test("GET /session refreshes a due token; /token errors", async () => {
      const br = await signIn("rdb-session");
      const rt0 = await storedRefreshToken("rdb-session");
      const g = front.hits.token;
      const s = await get(b, "/session", br.get(COOKIE));
      assert.equal(s.status, 200);
      assert.equal(s.json.error, undefined);
      assert.equal(front.hits.token - g, 1, "the session path refreshed");
      assert.notEqual(await storedRefreshToken("rdb-session"), rt0);
      const none = await fetch(a.url("/token?provider=oidc"));
      assert.equal(none.status, 401);
      assert.deepEqual(await none.json(), { error: "SessionRequired" });
      const unknown = await get(a, "/token?provider=nope", br.get(COOKIE));
      assert.equal(unknown.status, 404);
    });

    test("forward-auth passes a fresh access token upstream", async () => {
      const br = await signIn("rdb-forward");
      const g = front.hits.token;
      const r = await fetch(b.url("/forward"), { headers: {
        cookie: `${COOKIE}=${br.get(COOKIE)}`, "x-forwarded-method": "GET", "x-forwarded-proto": "http",
        "x-forwarded-host": "app.test", "x-forwarded-uri": "/page" } });
      assert.equal(r.status, 200, await r.text());
      assert.equal(front.hits.token - g, 1, "the expired token was refreshed first");
      const at = r.headers.get("x-auth-request-access-token");
      assert.ok(at, "an access token upstream");
      const t = await get(a, "/token?provider=oidc", br.get(COOKIE));
      assert.equal(t.json.access_token, at, "the refreshed one");
      assert.equal(front.hits.token - g, 1);
    });

    test("a refresh token the provider revoked gives RefreshTokenError, never presented twice", async () => {
      const br = await signIn("rdb-dead");
      const rt = await storedRefreshToken("rdb-dead");
      const rev = await fetch(`${front.issuer}/token/revocation`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded",
                   authorization: "Basic " + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64") },
        body: new URLSearchParams({ token: rt, token_type_hint: "refresh_token" }),
      });
      assert.equal(rev.status, 200);
      const g = front.hits.token;
      const r = await get(a, "/session", br.get(COOKIE));
      assert.equal(r.status, 200);
      assert.equal(r.json.error, "RefreshTokenError");
      assert.ok(r.json.user, "the session itself stays");
      assert.equal(front.hits.token - g, 1);
      const again = await get(b, "/session", br.get(COOKIE));
      assert.equal(again.json.error, "RefreshTokenError");
      const t = await get(b, "/token?provider=oidc", br.get(COOKIE));
      assert.equal(t.status, 401);
      assert.deepEqual(t.json, { error: "RefreshTokenError" });
      assert.equal(front.hits.token - g, 1, "the dead token was never presented again");
      // Signing in again stores fresh tokens: the error is gone.
      const fresh = await signIn("rdb-dead", { expired: false });
      const ok = await get(b, "/token?provider=oidc", fresh.get(COOKIE));
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
    });

    test("RP-initiated logout sends the account's id_token_hint", async () => {
      const br = await signIn("rdb-logout", { expired: false });
      const r = await browserSignOut(br, a, a.origin + "/bye");
      assert.equal(r.status, 200, r.text);
      const u = new URL(JSON.parse(r.text).url);
      const q = (k) => u.searchParams.get(k);
      assert.deepEqual([u.origin, q("client_id"), q("post_logout_redirect_uri"), jwsClaims(q("id_token_hint")).sub],
        [front.issuer, CLIENT_ID, a.url("/signout/callback/oidc"), "rdb-logout"]);
      assert.ok(q("state") && !br.get(COOKIE), "a state; signed out locally");
      const next = await logoutAtProvider(br, u.toString(), a.url("/signout/callback/oidc"));
      assert.equal(new URL(next).searchParams.get("state"), q("state"));
      const back = await br.request(next);
      assert.equal(back.status, 302);
      assert.equal(back.location, a.origin + "/bye");
    });
  });
}
