// oidc.test.mjs — OpenID Connect sign-in of a real `authc serve` against a
// real OpenID Provider nobody here wrote (npm oidc-provider on loopback),
// driven by a small browser through the provider's login and consent pages.
// protocol.md §8.1–§8.2, §10; issue 3.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runAuthc, startServer, withServer } from "./lib/server.mjs";
import { Browser, jwsHeader, loginAtProvider, newSigningKey, startOidcFront } from "./lib/oauth-servers.mjs";

// A client id and secret that need Auth.js's form encoding in Basic auth.
const CLIENT_ID = "authc e2e";
const CLIENT_SECRET = "s3cret:with/odd chars+";

describe("OIDC against oidc-provider", () => {
  let front, srv, key1;
  const cbPrefix = () => srv.url("/callback/oidc");

  before(async () => {
    front = await startOidcFront();
    key1 = newSigningKey("key-1");
    srv = await startServer({
      env: { AUTH_OIDC_ISSUER: front.issuer, AUTH_OIDC_ID: CLIENT_ID, AUTH_OIDC_SECRET: CLIENT_SECRET },
    });
    await front.setProvider({ redirectUris: [cbPrefix()], keys: [key1], clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  after(async () => {
    await srv?.stop();
    await front?.stop();
  });

  async function csrf(b) {
    const r = await b.request(srv.url("/csrf"));
    return JSON.parse(r.text).csrfToken;
  }

  // POST /signin/oidc; returns the authorization URL.
  async function startSignIn(b, callbackUrl = srv.origin + "/dashboard") {
    const r = await b.request(srv.url("/signin/oidc"), { method: "POST", form: { csrfToken: await csrf(b), callbackUrl } });
    assert.equal(r.status, 302, r.text);
    return r.location;
  }

  async function session(b) {
    const r = await b.request(srv.url("/session"));
    assert.equal(r.status, 200);
    return JSON.parse(r.text);
  }

  function assertNoSession(r, b, what) {
    assert.equal(r.status, 302, what);
    const loc = new URL(r.location);
    assert.equal(loc.origin + loc.pathname, srv.url("/error"), `${what}: ${r.location}`);
    assert.equal(loc.searchParams.get("error"), "Configuration", what);
    assert.ok(!r.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token=") && !/Max-Age=0/.test(c)), `${what}: no session cookie`);
    assert.equal(b.get("authjs.session-token"), undefined, `${what}: browser has no session`);
  }

  // A full sign-in up to the provider's redirect back; returns the callback
  // URL (not yet visited) and a copy of the browser's cookies at that point.
  async function toCallback(b, login = "alice") {
    const auth = await startSignIn(b);
    const cb = await loginAtProvider(b, auth, login, cbPrefix());
    return { cb, cookies: new Map(b.cookies), auth };
  }

  test("/providers lists the generic OIDC provider from AUTH_OIDC_*", async () => {
    const r = await fetch(srv.url("/providers"));
    const j = await r.json();
    assert.deepEqual(j.oidc, {
      id: "oidc", name: "OpenID Connect", type: "oidc",
      signinUrl: srv.url("/signin/oidc"), callbackUrl: srv.url("/callback/oidc"),
    });
    const page = await (await fetch(srv.url("/signin"))).text();
    assert.match(page, /Sign in with OpenID Connect/);
  });

  test("full flow: sign in through login and consent, session, sign out", async () => {
    const b = new Browser();
    const auth = await startSignIn(b);
    const u = new URL(auth);
    assert.equal(u.origin + u.pathname, front.issuer + "/auth");
    assert.deepEqual([...u.searchParams.keys()],
      ["response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "nonce", "scope"]);
    assert.equal(u.searchParams.get("client_id"), CLIENT_ID);
    assert.equal(u.searchParams.get("redirect_uri"), cbPrefix());
    assert.equal(u.searchParams.get("scope"), "openid profile email");
    for (const c of ["authjs.state", "authjs.pkce.code_verifier", "authjs.nonce"]) assert.ok(b.get(c), `${c} cookie`);

    const cb = await loginAtProvider(b, auth, "alice", cbPrefix());
    const cbu = new URL(cb);
    assert.ok(cbu.searchParams.get("code"));
    assert.equal(cbu.searchParams.get("iss"), front.issuer);
    const r = await b.request(cb);
    assert.equal(r.status, 302, r.text);
    assert.equal(r.location, srv.origin + "/dashboard");
    const sc = r.headers.getSetCookie();
    for (const c of ["authjs.state", "authjs.pkce.code_verifier", "authjs.nonce"])
      assert.ok(sc.some((x) => x.startsWith(`${c}=;`) && /Max-Age=0/.test(x)), `${c} cleared`);
    assert.ok(!cb.includes("access_token") && !r.location.includes("code="));

    const s = await session(b);
    assert.equal(s.user.name, "User alice");
    assert.equal(s.user.email, "alice@idp.example");
    assert.match(s.expires, /^\d{4}-\d\d-\d\dT/);

    const out = await b.request(srv.url("/signout"), { method: "POST", form: { csrfToken: await csrf(b) } });
    assert.equal(out.status, 302);
    assert.equal(await session(b), null);

    // A second sign-in reuses the cached discovery document and JWKS.
    const again = new Browser();
    const { cb: cb2 } = await toCallback(again, "bob");
    assert.equal((await again.request(cb2)).status, 302);
    assert.equal((await session(again)).user.email, "bob@idp.example");
    assert.equal(front.hits.discovery, 1, "discovery fetched once");
    assert.equal(front.hits.jwks, 1, "JWKS fetched once");
  });

  test("replayed callback yields no session", async () => {
    const b = new Browser();
    const { cb, cookies } = await toCallback(b);
    assert.equal((await b.request(cb)).status, 302);
    assert.ok(b.get("authjs.session-token"));
    // Same browser: its check cookies were cleared by the first callback.
    const b2 = new Browser();
    for (const [k, v] of b.cookies) if (!v.name.startsWith("authjs.session")) b2.cookies.set(k, v);
    assertNoSession(await b2.request(cb), b2, "replay with cleared check cookies");
    // An attacker who kept the earlier cookies: the provider refuses the spent code.
    const b3 = new Browser();
    b3.cookies = new Map(cookies);
    const before = front.hits.token;
    assertNoSession(await b3.request(cb), b3, "replay with the old check cookies");
    assert.equal(front.hits.token, before + 1, "the spent code went to the token endpoint once more");
  });

  test("tampered or missing state is refused before the code is spent", async () => {
    for (const mutate of [
      (u) => u.searchParams.set("state", u.searchParams.get("state").slice(0, -4) + "AAAA"),
      (u) => u.searchParams.delete("state"),
    ]) {
      const b = new Browser();
      const { cb } = await toCallback(b);
      const u = new URL(cb);
      mutate(u);
      const before = front.hits.token;
      assertNoSession(await b.request(u.toString()), b, "tampered state");
      assert.equal(front.hits.token, before, "no token request");
    }
  });

  test("provider error (user cancels at the IdP) → OAuthCallbackError", async () => {
    const b = new Browser();
    const auth = await startSignIn(b);
    const login = await b.follow(auth);
    const cancel = /href="([^"]*\/abort)"/.exec(login.text);
    assert.ok(cancel, "the login page has a cancel link");
    const r = await b.follow(new URL(cancel[1].replace(/&amp;/g, "&"), login.url).toString(), { stop: (u) => u.startsWith(cbPrefix()) });
    assert.match(r.next, /error=access_denied/);
    const res = await b.request(r.next);
    assert.equal(res.status, 302);
    assert.equal(res.location, srv.url("/signin?error=OAuthCallbackError"));
    assert.equal(b.get("authjs.session-token"), undefined);
  });

  // A sign-in whose id_token the provider re-signs with `claims` changed
  // gets no session.
  async function refusedIdToken(claims, what) {
    front.rewriteToken = async (json, resign) => ({ ...json, id_token: await resign(json.id_token, claims) });
    try {
      const b = new Browser();
      const { cb } = await toCallback(b);
      assertNoSession(await b.request(cb), b, what);
    } finally {
      front.rewriteToken = null;
    }
  }

  test("a different nonce in the id_token is refused", async () => {
    await refusedIdToken({ nonce: "not-the-nonce-authc-sent" }, "wrong nonce");
    assert.match(srv.stderr(), /nonce does not match/);
  });

  test("an expired id_token is refused", async () => {
    const now = Math.floor(Date.now() / 1000);
    await refusedIdToken({ iat: now - 7200, exp: now - 3600 }, "expired id_token");
    assert.match(srv.stderr(), /id_token expired/);
  });

  test("the provider rotates its signing key (new kid) during operation", async () => {
    const jwksBefore = front.hits.jwks;
    const key2 = newSigningKey("key-2");
    await front.setProvider({ redirectUris: [cbPrefix()], keys: [key2], clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    let kid;
    front.rewriteToken = async (json) => { kid = jwsHeader(json.id_token).kid; return json; };
    try {
      const b = new Browser();
      const { cb } = await toCallback(b, "carol");
      const r = await b.request(cb);
      assert.equal(r.status, 302, r.location);
      assert.equal(r.location, srv.origin + "/dashboard");
      assert.equal((await session(b)).user.email, "carol@idp.example");
    } finally {
      front.rewriteToken = null;
    }
    assert.equal(kid, "key-2");
    assert.equal(front.hits.jwks, jwksBefore + 1, "exactly one JWKS refetch for the new kid");
  });

  test("no token, code or secret in the server log", async () => {
    const log = srv.stderr();
    assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\./, "no JWT");
    assert.ok(!log.includes(CLIENT_SECRET));
    assert.doesNotMatch(log, /code=[A-Za-z0-9_-]{10,}/);
  });
});

describe("OAuth providers from AUTH_<ID>_* settings", () => {
  test("presets and generic issuers become providers, each with a button", async () => {
    const env = {
      AUTH_GOOGLE_ID: "g-id", AUTH_GOOGLE_SECRET: "g-secret",
      AUTH_MICROSOFT_ENTRA_ID_ID: "m-id", AUTH_MICROSOFT_ENTRA_ID_SECRET: "m-secret",
      AUTH_KEYCLOAK_ID: "k-id", AUTH_KEYCLOAK_SECRET: "k-secret", AUTH_KEYCLOAK_ISSUER: "https://kc.example.com/realms/r",
      AUTH_MY_IDP_ISSUER: "https://idp.example.com", AUTH_MY_IDP_ID: "x", AUTH_MY_IDP_SECRET: "y",
      AUTHC_MY_IDP_NAME: "Corporate SSO",
    };
    const chk = runAuthc(["check"], { env });
    assert.equal(chk.status, 0, chk.stderr);
    await withServer({ env }, async (srv) => {
      const j = await (await fetch(srv.url("/providers"))).json();
      assert.deepEqual(Object.keys(j), ["credentials", "google", "microsoft-entra-id", "keycloak", "my-idp"]);
      assert.equal(j.google.type, "oidc");
      assert.equal(j["microsoft-entra-id"].name, "Microsoft Entra ID");
      assert.deepEqual(j["my-idp"], { id: "my-idp", name: "Corporate SSO", type: "oidc", signinUrl: srv.url("/signin/my-idp"), callbackUrl: srv.url("/callback/my-idp") });
      const page = await (await fetch(srv.url("/signin"))).text();
      for (const n of ["Google", "Microsoft Entra ID", "Keycloak", "Corporate SSO"]) assert.match(page, new RegExp(`Sign in with ${n}`));
    });
  });

  test("incomplete or unsafe provider settings stop the server with a precise message", () => {
    const cases = [
      [{ AUTH_KEYCLOAK_ID: "k", AUTH_KEYCLOAK_SECRET: "s" }, /AUTH_KEYCLOAK_ISSUER/],
      [{ AUTH_GITHUB_ID: "g" }, /AUTH_GITHUB_SECRET/],
      [{ AUTH_OIDC_ISSUER: "https://idp.example.com" }, /AUTH_OIDC_ID/],
      [{ AUTH_OIDC_ISSUER: "http://idp.internal", AUTH_OIDC_ID: "i", AUTH_OIDC_SECRET: "s" }, /plain http/],
      [{ AUTH_GITHUB_ID: "g", AUTH_GITHUB_SECRET: "s", AUTHC_GITHUB_CHECKS: "pkce,bogus" }, /AUTHC_GITHUB_CHECKS/],
      [{ AUTH_GITHUB_ID: "g", AUTH_GITHUB_SECRET: "s", AUTHC_GITHUB_CA_FILE: "/nonexistent/ca.pem" }, /AUTHC_GITHUB_CA_FILE/],
    ];
    for (const [env, msg] of cases) {
      const r = runAuthc(["check"], { env });
      assert.notEqual(r.status, 0, JSON.stringify(env));
      assert.match(r.stderr, msg, JSON.stringify(env));
    }
  });
});
