// next.test.mjs — the seed's Next.js app (examples/next-app, only auth.ts on
// @authc/next) built and started against authc, driven by Chromium.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkedScreenshot, expectPath as waitPath, expectText as waitText, launchBrowser, signInFromBuiltInPage } from "./lib/apps-browser.mjs";
import { OIDC_CLIENT, oidcLoginAndConsent, startOidcProvider } from "./lib/apps-oidc.mjs";
import { buildNextApp, startNextApp } from "./lib/next-app.mjs";
import { ALICE, client, freePort, startServer } from "./lib/server.mjs";

const OCTO = { login: "octocat", name: "Octo Cat", email: "octocat@oidc.example" };
const ANON = "未登录";

// The Next.js server answers more slowly than authc: longer waits.
const expectText = (page, sel, text) => waitText(page, sel, text, 15000);
const expectPath = (page, pathname) => waitPath(page, pathname, 15000);

describe("examples/next-app on @authc/next: server components, server actions, next-auth/react", () => {
  let op, srv, app, browser;
  before(async () => {
    buildNextApp();
    const [opPort, appPort] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${opPort}`;
    // authc's GitHub preset with its endpoints on the local OpenID provider.
    srv = await startServer({
      basePath: "/api/auth",
      env: {
        AUTHC_BASE_PATH: "/api/auth",
        AUTH_GITHUB_ID: OIDC_CLIENT.id, AUTH_GITHUB_SECRET: OIDC_CLIENT.secret, AUTH_GITHUB_ISSUER: issuer,
        AUTHC_GITHUB_AUTHORIZATION_URL: `${issuer}/auth`, AUTHC_GITHUB_TOKEN_URL: `${issuer}/token`,
        AUTHC_GITHUB_USERINFO_URL: `${issuer}/me`, AUTHC_GITHUB_SCOPE: "openid profile email",
        AUTHC_GITHUB_CLAIM_ID: "sub", AUTHC_GITHUB_ALLOW_HTTP: "1",
      },
    });
    app = await startNextApp({ authcOrigin: srv.origin, port: appPort });
    op = await startOidcProvider({
      port: opPort,
      redirectUris: [`${app.origin}/api/auth/callback/github`],
      profile: (sub) => (sub === OCTO.login ? { name: OCTO.name, email: OCTO.email, email_verified: true } : {}),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await op?.stop();
    await app?.stop();
    if (srv) {
      const st = await srv.stop();
      assert.equal(st.forced, false, "authc exits on SIGTERM");
    }
  });
  afterEach(() => browser.reset());

  // The HTML of a new request with the browser's cookies (no client rendering).
  const freshHtml = async (p = "/") => (await browser.context.request.get(app.origin + p, { maxRedirects: 0 })).text();
  const sessionCookie = async () => (await browser.context.cookies()).find((c) => c.name === "authjs.session-token");

  test("server action signIn(\"github\") → provider → 欢迎 in the server HTML and useSession; server signOut", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await expectText(page, "#server-greeting", ANON);
    await expectText(page, "#client-greeting", ANON);
    await page.click("#server-signin");
    await page.waitForURL((u) => u.origin === op.issuer);
    await oidcLoginAndConsent(page, OCTO.login);
    await expectPath(page, "/");
    const hello = `欢迎, ${OCTO.name}`;
    await expectText(page, "#server-greeting", hello);
    await expectText(page, "#client-greeting", hello);
    assert.match(await freshHtml("/"), new RegExp(`<h1 id="server-greeting">${hello}</h1>`));
    await checkedScreenshot(page, "next-app", { selector: "#server-greeting", text: hello });

    await page.click("#server-signout");
    await expectText(page, "#server-greeting", ANON);
    assert.equal(await sessionCookie(), undefined, "the session cookie is gone");
    assert.match(await freshHtml("/"), new RegExp(`<h1 id="server-greeting">${ANON}</h1>`));
    // As with next-auth, the action's redirect is a soft navigation: the
    // SessionProvider keeps its state until the next load (or refetch).
    await page.reload();
    await expectText(page, "#client-greeting", ANON);
  });

  test("client signIn(\"github\", {callbackUrl: \"/dashboard\"}) lands on /dashboard; client signOut ends it", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await expectText(page, "#client-greeting", ANON);
    await page.click("#client-signin");
    await page.waitForURL((u) => u.origin === op.issuer || u.pathname === "/dashboard");
    if (new URL(page.url()).origin === op.issuer) await oidcLoginAndConsent(page, OCTO.login);
    await expectPath(page, "/dashboard");
    await expectText(page, "#server-greeting", `欢迎, ${OCTO.name}`);
    assert.match(await freshHtml("/dashboard"), new RegExp(`欢迎, (<!-- -->)?${OCTO.name}`));

    await page.click("#client-signout");
    await expectPath(page, "/");
    await expectText(page, "#server-greeting", ANON);
    await expectText(page, "#client-greeting", ANON);
    assert.equal(await sessionCookie(), undefined, "the session cookie is gone");
  });

  test("signIn(\"credentials\", formData) in a server action → /dashboard (redirectTo); a wrong password shows the error", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/");
    await page.fill("#username", ALICE.username);
    await page.fill("#password", "not the password");
    await page.click("#credentials-signin");
    await expectText(page, "#error", "登录失败: CredentialsSignin (credentials)");
    await expectText(page, "#server-greeting", ANON);
    assert.equal(await sessionCookie(), undefined, "no session after a refusal");

    await page.fill("#username", ALICE.username);
    await page.fill("#password", ALICE.password);
    await page.click("#credentials-signin");
    await expectPath(page, "/dashboard");
    await expectText(page, "#server-greeting", `欢迎, ${ALICE.name}`);
    await page.click("#server-signout");
    await expectPath(page, "/");
    await expectText(page, "#server-greeting", ANON);
  });

  test("/dashboard when signed out → authc's built-in page through the handlers → back to /dashboard", async () => {
    const page = await browser.context.newPage();
    await page.goto(app.origin + "/dashboard");
    await signInFromBuiltInPage(page, { at: "/api/auth/signin", query: { callbackUrl: "/dashboard" }, user: ALICE,
      back: "/dashboard", selector: "#server-greeting", text: `欢迎, ${ALICE.name}`, timeout: 15000 });
  });

  test("handlers: every Set-Cookie back, X-Auth-Return-Redirect, redirects not followed, the app's host", async () => {
    const direct = await fetch(srv.url("/csrf"), { headers: { "x-forwarded-host": `127.0.0.1:${app.port}`, "x-forwarded-proto": "http" } });
    const proxied = await fetch(app.origin + "/api/auth/csrf");
    assert.equal(proxied.status, 200);
    assert.deepEqual(proxied.headers.getSetCookie().map((c) => c.split("=")[0]), direct.headers.getSetCookie().map((c) => c.split("=")[0]));
    assert.ok(proxied.headers.getSetCookie().length >= 2, "csrf and callback-url cookies");
    const cookie = proxied.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const { csrfToken } = await proxied.json();

    const form = (extra) => new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrfToken, callbackUrl: "/dashboard", ...extra });
    const json = await fetch(app.origin + "/api/auth/callback/credentials", {
      method: "POST", redirect: "manual", body: form(),
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", "x-auth-return-redirect": "1" },
    });
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), { url: `${app.origin}/dashboard` });
    assert.ok(json.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token=")), "session cookie passed back");

    const raw = await fetch(app.origin + "/api/auth/callback/credentials", {
      method: "POST", redirect: "manual", body: form({ password: "wrong" }),
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(raw.status, 302);
    const to = new URL(raw.headers.get("location"));
    assert.equal(to.origin, app.origin, "authc builds URLs on the app's host");
    assert.equal(to.pathname, "/api/auth/signin");
    assert.equal(to.searchParams.get("error"), "CredentialsSignin");

    const big = await fetch(app.origin + "/api/auth/callback/credentials", {
      method: "POST", body: "x".repeat((1 << 20) + 1), headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(big.status, 413);
  });
});

// auth()'s other shapes (middleware inline and wrapping, route handler,
// pages router) called directly, as Next.js calls them, against authc.
describe("@authc/next auth() as middleware, route handler wrapper and in the pages router", () => {
  let srv, lib, cookie;
  const APP = "http://app.test:8080";
  before(async () => {
    lib = await import("./lib/next-import.mjs");
    srv = await startServer({ basePath: "/api/auth", env: { AUTHC_BASE_PATH: "/api/auth" } });
    const c = client(srv);
    const res = await c.signIn();
    assert.equal(res.status, 302);
    cookie = `authjs.session-token=${c.jar.get("authjs.session-token")}`;
  });
  after(async () => { await srv?.stop(); });

  const req = (p, h = {}) => new lib.NextRequest(APP + p, { headers: { host: "app.test:8080", ...h } });

  test("inline middleware: passes the request on and hands re-issued cookies to the browser", async () => {
    const { auth } = lib.AuthC({ url: srv.origin });
    const res = await auth(req("/x", { cookie }));
    assert.equal(res.headers.get("x-middleware-next"), "1");
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token=")), "refreshed session cookie");
    const anon = await auth(req("/x"));
    assert.equal(anon.headers.get("x-middleware-next"), "1");
  });

  test("wrapped middleware / route handler sees req.auth; authorized() redirects to the sign-in page", async () => {
    const { auth } = lib.AuthC({ url: srv.origin });
    const route = auth((r) => Response.json(r.auth));
    const signed = await (await route(req("/api/me", { cookie }), { params: Promise.resolve({}) })).json();
    assert.equal(signed.user.name, ALICE.name);
    assert.equal(await (await route(req("/api/me"), { params: Promise.resolve({}) })).json(), null);

    const guarded = lib.AuthC({ url: srv.origin, callbacks: { authorized: ({ auth }) => !!auth } });
    const out = await guarded.auth(req("/dashboard?tab=1"));
    assert.equal(out.status, 307);
    const to = new URL(out.headers.get("location"));
    assert.equal(to.pathname, "/api/auth/signin");
    assert.equal(to.searchParams.get("callbackUrl"), `${APP}/dashboard?tab=1`);
    assert.equal((await guarded.auth(req("/dashboard", { cookie }))).headers.get("x-middleware-next"), "1");
  });

  test("pages router auth(req, res) and auth({req, res}); a tampered cookie is no session", async () => {
    const { auth } = lib.AuthC({ url: srv.origin });
    const set = [];
    const res = { appendHeader: (k, v) => set.push([k, v]) };
    const s = await auth({ headers: { cookie, host: "app.test:8080" } }, res);
    assert.equal(s.user.email, ALICE.email);
    assert.ok(set.some(([k, v]) => k === "set-cookie" && v.startsWith("authjs.session-token=")));
    const s2 = await auth({ req: { headers: { cookie: cookie + "x", host: "app.test:8080" } }, res });
    assert.equal(s2, null);
  });

  test("no AUTHC_URL: AuthC() does not throw; the handlers answer 500 and auth() throws Configuration", async () => {
    const saved = process.env.AUTHC_URL;
    delete process.env.AUTHC_URL;
    try {
      const { handlers, auth } = lib.AuthC();
      const r = await handlers.GET(req("/api/auth/session"));
      assert.equal(r.status, 500);
      await assert.rejects(auth(req("/x")), (e) => e instanceof lib.AuthError && e.type === "Configuration");
    } finally {
      if (saved !== undefined) process.env.AUTHC_URL = saved;
    }
  });

  test("authc down: auth() fails closed (throws), the handlers answer 502", async () => {
    const port = await freePort();
    const { handlers, auth } = lib.AuthC({ url: `http://127.0.0.1:${port}` });
    await assert.rejects(auth(req("/x", { cookie })), (e) => e.type === "Configuration");
    assert.equal((await handlers.GET(req("/api/auth/session"))).status, 502);
  });
});
