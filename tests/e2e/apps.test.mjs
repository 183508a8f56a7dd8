// apps.test.mjs — the seed's "登录与退出" in a real browser, both ways: the
// server-rendered C app (examples/c-app) and React with the unmodified
// next-auth/react (examples/react-app), plus the framework-free authc.js.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { checkedScreenshot, expectPath, expectText, launchBrowser, signInFromBuiltInPage } from "./lib/apps-browser.mjs";
import { ALICE, buildReactApp, freePort, repoRoot, startCApp, startServer } from "./lib/apps-procs.mjs";
import { assertRedirect } from "./lib/server.mjs";
import { OIDC_CLIENT, oidcLoginAndConsent, startOidcProvider } from "./lib/apps-oidc.mjs";

const GREETING = `欢迎, ${ALICE.name}`;
const ANON = "未登录";

async function sessionCookie(context) {
  return (await context.cookies()).find((c) => c.name === "authjs.session-token");
}

// Records the /auth/session requests a page makes.
function sessionRequests(page) {
  const seen = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname === "/auth/session") seen.push({ method: r.method(), body: r.postData() });
  });
  return seen;
}

// Fills the app's own credentials form as alice (with `password`) and submits it.
async function submitCredentials(page, password = ALICE.password) {
  await page.fill("#username", ALICE.username);
  await page.fill("#password", password);
  await page.click("#signin");
}

// Signs alice in on the built-in page at /auth/signin (asked for with
// `query`) and expects her greeting at `back`.
function builtInSignIn(page, query, back) {
  return signInFromBuiltInPage(page, { at: "/auth/signin", query, user: ALICE, back, selector: "#greeting", text: GREETING });
}

// POSTs a form to the C app's action `url`, redirects not followed.
function postAction(url, fields, headers = {}) {
  return fetch(url, {
    method: "POST", redirect: "manual",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

async function until(fn, what, timeout = 10000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

// ===================================================================== C app
describe("C app: server-rendered with authc_auth / authc_sign_in / authc_sign_out", () => {
  let app, browser;
  before(async () => {
    app = await startCApp();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (app) {
      const st = await app.stop();
      assert.equal(st.forced, false, "authc-c-app exits on SIGTERM");
      assert.equal(st.code, 0, `authc-c-app exit status: ${app.stderr().slice(-2000)}`);
      // Meaningful when AUTHC_C_APP_BIN is a sanitizer build.
      assert.doesNotMatch(app.stderr(), /AddressSanitizer|LeakSanitizer|runtime error:/, app.stderr());
    }
  });
  afterEach(() => browser.reset());

  test("anonymous: 未登录, and the sign-in form posts to the app's own handler", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await expectText(page, "#greeting", ANON);
    assert.equal(await page.locator("#credentials-form").getAttribute("action"), "/actions/signin");
    assert.equal(await page.locator('#credentials-form input[name="redirectTo"]').inputValue(), "/dashboard");
    assert.equal(await page.locator("#signout").count(), 0);
  });

  test("sign in (credentials) → /dashboard via redirectTo → 欢迎 → sign out → 未登录", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await submitCredentials(page);
    await expectPath(page, "/dashboard");
    await expectText(page, "#title", "仪表盘 Dashboard");
    await expectText(page, "#greeting", GREETING);
    assert.ok(await sessionCookie(browser.context), "session cookie set by authc_sign_in");

    await page.goto(app.origin + "/");
    await expectText(page, "#greeting", GREETING);
    assert.equal(await page.textContent("#user-email"), ALICE.email);
    await checkedScreenshot(page, "c-app", { selector: "#greeting", text: GREETING });

    await page.click("#signout");
    await expectPath(page, "/");
    await expectText(page, "#greeting", ANON);
    assert.equal(await sessionCookie(browser.context), undefined, "session cookie cleared by authc_sign_out");
    await page.goto(app.origin + "/dashboard");
    await expectPath(page, "/auth/signin");
  });

  test("/dashboard sends anonymous visitors to sign in with a callbackUrl, and back", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/dashboard");
    await builtInSignIn(page, { callbackUrl: "/dashboard" }, "/dashboard");
  });

  test("signIn() without a provider opens the built-in page and comes back to redirectTo", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await page.click("#signin-page");
    await builtInSignIn(page, { callbackUrl: "/dashboard" }, "/dashboard");
  });

  test("a wrong password shows the app's error and sets no session", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await submitCredentials(page, "not-the-password");
    await expectPath(page, "/");
    assert.equal(new URL(page.url()).searchParams.get("error"), "CredentialsSignin");
    await expectText(page, "#greeting", ANON);
    await expectText(page, "#error", "用户名或密码错误 / Wrong username or password.");
    assert.equal(await sessionCookie(browser.context), undefined);
  });

  test("sign-out in one tab is seen in another", async () => {
    const a = await browser.context.newPage();
    const b = await browser.context.newPage();
    await a.goto(app.origin + "/");
    await submitCredentials(a);
    await expectPath(a, "/dashboard");
    await b.goto(app.origin + "/");
    await expectText(b, "#greeting", GREETING);
    await a.click("#signout");
    await expectText(a, "#greeting", ANON);
    // Server-rendered: the other tab sees it on its next request.
    await b.reload();
    await expectText(b, "#greeting", ANON);
  });

  test("the app's actions refuse cross-origin form posts and anything but POST", async () => {
    const evil = await postAction(app.origin + "/actions/signin",
      { provider: "credentials", username: ALICE.username, password: ALICE.password }, { origin: "http://evil.example" });
    assert.equal(evil.status, 403);
    assert.deepEqual(evil.headers.getSetCookie(), []);
    const get = await fetch(app.origin + "/actions/signout", { redirect: "manual" });
    assert.equal(get.status, 405);
    // Same origin works and gives the Auth.js session cookie.
    const ok = await postAction(app.origin + "/actions/signin",
      { provider: "credentials", redirectTo: "/dashboard", username: ALICE.username, password: ALICE.password },
      { origin: app.origin });
    assertRedirect(ok, app.origin + "/dashboard");
    assert.ok(ok.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token=ey")));
    // An off-site redirectTo is not followed.
    const off = await postAction(app.origin + "/actions/signin",
      { provider: "credentials", redirectTo: "//evil.example/x", username: ALICE.username, password: ALICE.password });
    assert.equal(off.headers.get("location"), app.origin + "/dashboard");
  });
});

// ===================================================================== React app
describe("React app: unmodified next-auth/react against authc serve --static", () => {
  let dist, srv, browser;
  before(async () => {
    dist = buildReactApp();
    srv = await startServer({ args: ["--static", dist] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (srv) await srv.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });
  afterEach(() => browser.reset());

  async function signInWithForm(page) {
    await page.goto(srv.origin + "/");
    await expectText(page, "#status", "status: unauthenticated");
    await submitCredentials(page);
    await expectPath(page, "/dashboard");
    await expectText(page, "#greeting", GREETING);
  }

  // Opens the home page with its /auth/session requests held back: status
  // "loading" until they go through, then `status`.
  async function loadingThen(page, status) {
    let release;
    const gate = new Promise((r) => { release = r; });
    await page.route("**/auth/session", async (route) => { await gate; await route.continue(); });
    await page.goto(srv.origin + "/");
    await expectText(page, "#status", "status: loading");
    release();
    await expectText(page, "#status", status);
  }

  test("anonymous: useSession goes loading → unauthenticated, 未登录", async () => {
    const page = await browser.context.newPage();
    await loadingThen(page, "status: unauthenticated");
    await expectText(page, "#greeting", ANON);
    await page.locator("#credentials-form").waitFor();
  });

  test("signIn(credentials, {redirectTo}) → /dashboard → loading then authenticated → signOut({callbackUrl:'/'}) → 未登录", async () => {
    const page = await browser.context.newPage();
    await signInWithForm(page);
    assert.ok(await sessionCookie(browser.context));

    // The home page again, with /session held back: loading, then authenticated.
    await loadingThen(page, "status: authenticated");
    await expectText(page, "#greeting", GREETING);
    await page.unroute("**/auth/session");
    const shown = JSON.parse(await page.textContent("#session-json"));
    assert.equal(shown.user.email, ALICE.email);
    await checkedScreenshot(page, "react-app", { selector: "#greeting", text: GREETING });

    await page.click("#signout");
    await expectPath(page, "/");
    await expectText(page, "#greeting", ANON);
    assert.equal(await sessionCookie(browser.context), undefined);
  });

  test("/dashboard (useSession required) sends anonymous visitors to sign in with a callbackUrl, and back", async () => {
    const page = await browser.context.newPage();
    await page.goto(srv.origin + "/dashboard");
    await builtInSignIn(page, { error: "SessionRequired", callbackUrl: srv.origin + "/dashboard" }, "/dashboard");
  });

  test("signIn() without a provider opens the built-in page with callbackUrl = this page", async () => {
    const page = await browser.context.newPage();
    await page.goto(srv.origin + "/");
    await page.click("#signin-page");
    await builtInSignIn(page, { callbackUrl: srv.origin + "/" }, "/");
  });

  test("a wrong password lands on the sign-in page with error=CredentialsSignin", async () => {
    const page = await browser.context.newPage();
    await page.goto(srv.origin + "/");
    await submitCredentials(page, "wrong");
    await expectPath(page, "/auth/signin");
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get("error"), "CredentialsSignin");
    assert.equal(q.get("code"), "credentials");
    assert.equal(await sessionCookie(browser.context), undefined);
  });

  test("update() re-reads the session; update(data) POSTs {csrfToken, data}", async () => {
    const page = await browser.context.newPage();
    await signInWithForm(page);
    await page.goto(srv.origin + "/");
    await expectText(page, "#status", "status: authenticated");
    const seen = sessionRequests(page);
    await page.click("#update");
    await expectText(page, "#updated", "update(): ok");
    assert.ok(seen.some((r) => r.method === "GET"), "update() fetched /session");
    await page.click("#update-data");
    await expectText(page, "#updated", "update(data): ok");
    const post = seen.find((r) => r.method === "POST");
    assert.ok(post, "update(data) posted /session");
    const body = JSON.parse(post.body);
    assert.match(body.csrfToken, /^[0-9a-f]{64}$/);
    assert.ok(body.data.seenAt);
    await expectText(page, "#status", "status: authenticated");
  });

  test("sign-out in one tab is seen in another without reload (BroadcastChannel)", async () => {
    const a = await browser.context.newPage();
    const b = await browser.context.newPage();
    await signInWithForm(a);
    await b.goto(srv.origin + "/");
    await expectText(b, "#greeting", GREETING);
    await b.evaluate(() => {
      window.__stayed = true;
      window.__msgs = [];
      new BroadcastChannel("next-auth").onmessage = (e) => window.__msgs.push(e.data);
    });
    await a.click("#signout");
    await expectText(a, "#greeting", ANON);
    await expectText(b, "#greeting", ANON);
    await expectText(b, "#status", "status: unauthenticated");
    assert.equal(await b.evaluate(() => window.__stayed), true, "tab B was not reloaded");
    const msgs = await b.evaluate(() => window.__msgs);
    assert.ok(msgs.some((m) => m.event === "session" && m.data?.trigger === "signout"), `signout broadcast seen: ${JSON.stringify(msgs)}`);
  });

  test("refetch when the tab becomes visible, and polling every refetchInterval", async () => {
    const page = await browser.context.newPage();
    await signInWithForm(page);
    await page.clock.install();
    await page.goto(srv.origin + "/");
    await expectText(page, "#status", "status: authenticated");
    const seen = sessionRequests(page);
    await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await until(() => seen.length >= 1, "a /session fetch on visibilitychange");
    const n = seen.length;
    await page.clock.runFor(5 * 60 * 1000 + 1000);
    await until(() => seen.length > n, "a /session poll after refetchInterval (300 s)");
    await expectText(page, "#status", "status: authenticated");
  });
});

// ===================================================================== authc.js
describe("authc.js: the framework-free browser client", () => {
  let srv, browser;
  before(async () => {
    srv = await startServer({ args: ["--static", path.join(repoRoot, "examples/js-client")] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (srv) await srv.stop();
  });

  test("session events: signIn / signOut without redirect, wrong password, and another tab following", async () => {
    const a = await browser.context.newPage();
    const b = await browser.context.newPage();
    await a.goto(srv.origin + "/");
    await expectText(a, "#status", "status: unauthenticated");
    await expectText(a, "#greeting", ANON);
    await submitCredentials(a, "wrong");
    await expectText(a, "#error", "用户名或密码错误 / Wrong username or password.");
    await expectText(a, "#greeting", ANON);

    await b.goto(srv.origin + "/");
    await expectText(b, "#greeting", ANON);
    await a.fill("#password", ALICE.password);
    await a.click("#signin");
    await expectText(a, "#greeting", GREETING);
    assert.equal(new URL(a.url()).pathname, "/", "redirect:false stays on the page");
    // Tab B hears the getSession broadcast and refetches.
    await expectText(b, "#greeting", GREETING);

    await a.click("#signout");
    await expectText(a, "#greeting", ANON);
    await expectText(b, "#greeting", ANON);
    assert.equal(await sessionCookie(browser.context), undefined);
  });
});

// ===================================================================== other providers
// Both apps with what `authc serve` reads for OAuth/OIDC, GitHub and email:
// a real OpenID Connect provider on loopback, GitHub's preset (its page is
// intercepted: no network), and email links written to the log.
describe("both apps with OIDC (local provider), GitHub and email sign-in", () => {
  const OLIVIA = { login: "olivia", name: "Olivia OIDC", email: "olivia@oidc.example" };
  let op, app, dist, srv, browser;
  before(async () => {
    const opPort = await freePort();
    const env = {
      AUTH_LOCALOIDC_ISSUER: `http://127.0.0.1:${opPort}`, AUTH_LOCALOIDC_ID: OIDC_CLIENT.id,
      AUTH_LOCALOIDC_SECRET: OIDC_CLIENT.secret, AUTHC_LOCALOIDC_NAME: "Local OIDC",
      AUTH_GITHUB_ID: "gh-client-id", AUTH_GITHUB_SECRET: "gh-client-secret",
      AUTHC_EMAIL: "log", AUTHC_ALLOWED_HOSTS: "127.0.0.1,localhost", AUTHC_DATABASE: "memory:", AUTHC_SESSION_STRATEGY: "jwt",
    };
    app = await startCApp({ env });
    dist = buildReactApp();
    srv = await startServer({ args: ["--static", dist], env });
    // Discovery happens at the first sign-in, so the provider may start last.
    op = await startOidcProvider({
      port: opPort,
      redirectUris: [app.origin, srv.origin].map((o) => `${o}/auth/callback/localoidc`),
      profile: (sub) => (sub === OLIVIA.login ? { name: OLIVIA.name, email: OLIVIA.email, email_verified: true } : {}),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await op?.stop();
    if (app) await app.stop();
    if (srv) await srv.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });
  afterEach(() => browser.reset());

  const apps = () => [["C app", app.origin, app.stderr], ["React app", srv.origin, srv.stderr]];

  test("OIDC: sign in at the provider → /dashboard via redirectTo → 欢迎 → sign out → 未登录", async () => {
    for (const [label, origin] of apps()) {
      const page = await browser.context.newPage();
      await page.goto(origin + "/");
      await expectText(page, "#greeting", ANON);
      await page.click('button[data-provider="localoidc"]');
      await page.waitForURL((u) => u.origin === op.issuer, { timeout: 10000 });
      await oidcLoginAndConsent(page, OLIVIA.login);
      await expectPath(page, "/dashboard", 15000);
      await expectText(page, "#greeting", `欢迎, ${OLIVIA.name}`);
      await page.goto(origin + "/");
      await expectText(page, "#greeting", `欢迎, ${OLIVIA.name}`);
      await page.click("#signout");
      await expectPath(page, "/");
      await expectText(page, "#greeting", ANON);
      assert.equal(await sessionCookie(browser.context), undefined, `${label}: signed out`);
      await browser.context.clearCookies();
      await page.close();
    }
  });

  test("GitHub appears when AUTH_GITHUB_ID/SECRET are set and starts its authorization", async () => {
    for (const [label, origin] of apps()) {
      const page = await browser.context.newPage();
      let authorize = null;
      await page.route("https://github.com/**", (route) => {
        authorize = new URL(route.request().url());
        return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>GitHub (local stand-in)</h1>" });
      });
      await page.goto(origin + "/");
      const button = page.locator('button[data-provider="github"]');
      assert.match(await button.textContent(), /GitHub/, `${label}: GitHub button`);
      await button.click();
      await until(() => authorize !== null, `${label}: navigation to GitHub`);
      assert.equal(authorize.pathname, "/login/oauth/authorize");
      assert.equal(authorize.searchParams.get("client_id"), "gh-client-id");
      assert.equal(authorize.searchParams.get("redirect_uri"), `${origin}/auth/callback/github`);
      assert.ok(authorize.searchParams.get("state") || authorize.searchParams.get("code_challenge"), "a check is sent");
      await page.close();
    }
  });

  test("email: the link from the log signs in and lands on /dashboard", async () => {
    for (const [label, origin, stderr] of apps()) {
      const email = `eve-${label.startsWith("C") ? "c" : "react"}@example.com`;
      const page = await browser.context.newPage();
      await page.goto(origin + "/");
      await expectText(page, "#greeting", ANON);
      const form = page.locator("form", { has: page.locator('button[data-provider="email"]') });
      await form.locator('input[type="email"]').fill(email);
      await form.locator('button[data-provider="email"]').click();
      await expectPath(page, "/auth/verify-request");
      let link = null;
      await until(() => (link = new RegExp(`sign-in link for ${email.replace(/[.]/g, "\\.")}: (\\S+)`).exec(stderr())?.[1]),
        `${label}: the sign-in link in the log`);
      await page.goto(link);
      // authc's default (AUTHC_EMAIL_CONFIRM): a button press, so link scanners cannot sign in.
      if (new URL(page.url()).pathname === "/auth/callback/email") await page.locator('button[type="submit"]').click();
      await expectPath(page, "/dashboard", 15000);
      await expectText(page, "#greeting", `欢迎, ${email}`);
      await browser.context.clearCookies();
      await page.close();
    }
  });
});
