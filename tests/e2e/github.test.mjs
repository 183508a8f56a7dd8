// github.test.mjs — the GitHub preset of a real `authc serve` against a
// loopback server answering GitHub's documented endpoints and response
// shapes (see startGithubMock in lib/oauth-servers.mjs: the "Authorizing
// OAuth apps" authorize redirect and access-token answers — form-encoded by
// default, JSON with Accept: application/json, errors as 200 + error field —
// "Get the authenticated user" with a private (null) email, and "List email
// addresses for the authenticated user" with a private primary address),
// pointed at through AUTHC_GITHUB_BASE_URL (GitHub Enterprise layout).
// Also: a provider that hangs for 30 s must not delay GET /auth/session.
// protocol.md §13.1, §8.1–§8.2; issue 3.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { client, startServer } from "./lib/server.mjs";
import { Browser, startGithubMock, startHangingIdp } from "./lib/oauth-servers.mjs";

const GH_ID = "gh id";          // form-encoded in Basic auth as gh+id
const GH_SECRET = "gh:secret";  // … and gh%3Asecret

describe("GitHub preset against a GitHub look-alike", () => {
  let gh, srv;
  before(async () => {
    gh = await startGithubMock({ clientId: GH_ID, clientSecret: GH_SECRET });
    srv = await startServer({ env: { AUTH_GITHUB_ID: GH_ID, AUTH_GITHUB_SECRET: GH_SECRET, AUTHC_GITHUB_BASE_URL: gh.base } });
  });
  after(async () => {
    await srv?.stop();
    await gh?.stop();
  });

  async function signIn(b) {
    const csrf = JSON.parse((await b.request(srv.url("/csrf"))).text).csrfToken;
    // next-auth's signIn("github", { redirectTo: "/dashboard" }) over HTTP.
    const r = await b.request(srv.url("/signin/github"), {
      method: "POST", form: { csrfToken: csrf, callbackUrl: "/dashboard" }, headers: { "X-Auth-Return-Redirect": "1" },
    });
    assert.equal(r.status, 200);
    return JSON.parse(r.text).url;
  }

  async function session(b) {
    return JSON.parse((await b.request(srv.url("/session"))).text);
  }

  test("/providers and the sign-in button", async () => {
    const j = await (await fetch(srv.url("/providers"))).json();
    assert.deepEqual(j.github, { id: "github", name: "GitHub", type: "oauth", signinUrl: srv.url("/signin/github"), callbackUrl: srv.url("/callback/github") });
    const page = await (await fetch(srv.url("/signin"))).text();
    assert.match(page, /Sign in with GitHub/);
    assert.match(page, /#24292f/);
  });

  for (const mode of ["JSON", "form"]) {
    test(`sign-in with the access token answered as ${mode}; private primary email`, async () => {
      gh.alwaysForm = mode === "form";
      const b = new Browser();
      const url = await signIn(b);
      const u = new URL(url);
      assert.equal(u.origin + u.pathname, gh.base + "/login/oauth/authorize");
      assert.deepEqual([...u.searchParams.keys()],
        ["scope", "response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"]);
      assert.ok(url.includes("scope=read%3Auser+user%3Aemail&response_type=code&client_id=gh+id&redirect_uri=" +
        encodeURIComponent(srv.url("/callback/github"))));
      const r = await b.follow(url, { stop: (n) => !n.startsWith(gh.base) && !n.startsWith(srv.url("/callback")) });
      assert.equal(r.next, srv.origin + "/dashboard");
      const s = await session(b);
      assert.deepEqual(s.user, {
        name: "The Octocat",
        email: "octocat@github.example", // the primary entry, lowercased
        image: "https://avatars.githubusercontent.com/u/583231?v=4",
      });
      // What went over the wire to "GitHub".
      const tok = gh.seen.token.at(-1);
      assert.equal(tok.headers.authorization, "Basic " + Buffer.from("gh+id:gh%3Asecret").toString("base64"));
      assert.match(tok.headers.accept, /application\/json/);
      assert.match(tok.headers["user-agent"], /\S/);
      assert.deepEqual(Object.keys(tok.body), ["redirect_uri", "code", "code_verifier", "grant_type"]);
      const user = gh.seen.user.at(-1);
      assert.match(user.authorization, /^Bearer gho_/);
      assert.match(user["user-agent"], /\S/, "GitHub's API requires a User-Agent");
      assert.equal(gh.seen.emails.length > 0, true);
    });
  }

  test("GitHub refuses the code (200 with an error field) → Configuration, no session", async () => {
    gh.alwaysForm = false;
    const b = new Browser();
    const url = await signIn(b);
    const r = await b.follow(url, { stop: (n) => n.startsWith(srv.url("/callback")) });
    const cb = new URL(r.next);
    cb.searchParams.set("code", "not-a-code-github-issued");
    const res = await b.request(cb.toString());
    assert.equal(res.status, 302);
    assert.equal(res.location, srv.url("/error?error=Configuration"));
    assert.equal(b.get("authjs.session-token"), undefined);
    assert.match(srv.stderr(), /error=bad_verification_code/);
  });

  test("no access token in the log", () => {
    assert.doesNotMatch(srv.stderr(), /gho_[0-9a-f]{8}/);
  });
});

describe("a provider that does not answer for 30 s", () => {
  let idp, srv;
  before(async () => {
    idp = await startHangingIdp(30_000);
    srv = await startServer({
      env: { AUTH_GITHUB_ID: "x", AUTH_GITHUB_SECRET: "y", AUTHC_GITHUB_BASE_URL: idp.base, AUTHC_HTTP_TIMEOUT_MS: "45000" },
    });
  });
  after(async () => {
    await srv?.stop();
    await idp?.stop();
  });

  test("does not delay GET /auth/session for others", { timeout: 90_000 }, async () => {
    // Someone else is signed in (credentials).
    const other = client(srv);
    assert.equal((await other.signIn()).status, 302);
    const who = await (await other("/session")).json();
    assert.equal(who.user.email, "alice@example.com");

    // Sixteen users (as many as the server has workers for provider calls)
    // come back from the hanging provider at once: each callback waits on
    // its token endpoint.
    const hung = [];
    for (let i = 0; i < 16; i++) {
      const b = new Browser();
      const csrf = JSON.parse((await b.request(srv.url("/csrf"))).text).csrfToken;
      const r = await b.request(srv.url("/signin/github"), { method: "POST", form: { csrfToken: csrf } });
      const state = new URL(r.location).searchParams.get("state");
      const cb = srv.url(`/callback/github?code=c${i}&state=${encodeURIComponent(state)}`);
      const t0 = Date.now();
      hung.push(b.request(cb).then((res) => ({ res, ms: Date.now() - t0, b })));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(idp.hits() >= 10, `the provider holds ${idp.hits()} token requests`);

    // For the whole 30 s, session checks of the signed-in user stay fast.
    const slow = [];
    const until = Date.now() + 29_000;
    let checks = 0;
    while (Date.now() < until) {
      const t0 = Date.now();
      const res = await other("/session");
      const ms = Date.now() - t0;
      assert.equal(res.status, 200);
      assert.equal((await res.json()).user.email, "alice@example.com");
      if (ms > 500) slow.push(ms);
      checks++;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(slow, [], `slow /auth/session answers during the hang (of ${checks})`);

    // When the provider finally answers (HTTP 500), every callback fails
    // cleanly: Configuration, no session.
    const done = await Promise.all(hung);
    for (const { res, ms, b } of done) {
      assert.equal(res.status, 302);
      assert.equal(res.location, srv.url("/error?error=Configuration"));
      assert.ok(ms >= 29_000, `callback answered after ${ms} ms`);
      assert.equal(b.get("authjs.session-token"), undefined);
    }
  });
});
