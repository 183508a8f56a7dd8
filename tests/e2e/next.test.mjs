// next.test.mjs — the seed's Next.js app (examples/next-app, only auth.ts on
// @authc/next) built and started against authc, driven by Chromium.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkedScreenshot, launchBrowser } from "./lib/apps-browser.mjs";
import { OIDC_CLIENT, oidcLoginAndConsent, startOidcProvider } from "./lib/apps-oidc.mjs";
import { buildNextApp, startNextApp } from "./lib/next-app.mjs";
import { ALICE, freePort, startServer } from "./lib/server.mjs";

const OCTO = { login: "octocat", name: "Octo Cat", email: "octocat@oidc.example" };
const ANON = "未登录";

async function expectText(page, sel, text, timeout = 15000) {
  try {
    await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent.trim() === t, [sel, text], { timeout });
  } catch {
    const now = await page.locator(sel).first().textContent({ timeout: 1000 }).catch(() => "<absent>");
    assert.fail(`${sel}: expected "${text}", found "${now?.trim()}" at ${page.url()}`);
  }
}

async function expectPath(page, pathname, timeout = 15000) {
  try {
    await page.waitForURL((u) => u.pathname === pathname, { timeout });
  } catch {
    assert.fail(`expected to be at ${pathname}, at ${page.url()}`);
  }
}

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
  afterEach(async () => {
    await browser.context.clearCookies();
    for (const p of browser.context.pages()) await p.close();
  });

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
    await expectPath(page, "/api/auth/signin");
    assert.equal(new URL(page.url()).searchParams.get("callbackUrl"), "/dashboard");
    const form = page.locator('form[action$="/api/auth/callback/credentials"]');
    await form.locator('input[name="username"]').fill(ALICE.username);
    await form.locator('input[name="password"]').fill(ALICE.password);
    await form.locator('button[type="submit"]').click();
    await expectPath(page, "/dashboard");
    await expectText(page, "#server-greeting", `欢迎, ${ALICE.name}`);
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
