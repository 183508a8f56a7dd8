// rotation-browser.test.mjs — RP-initiated logout in Chromium: the unmodified
// next-auth/react signOut() of examples/react-app follows authc's 200 {url}
// to oidc-provider's end_session page and comes back through
// <base>/signout/callback/<ID> to its callbackUrl, for JWT and database
// sessions. Issue 11.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { browserProblem, expectPath, expectText, launchBrowser } from "./lib/apps-browser.mjs";
import { OIDC_CLIENT, oidcLoginAndConsent, startOidcProvider } from "./lib/apps-oidc.mjs";
import { buildReactApp, freePort, startServer } from "./lib/apps-procs.mjs";

const ANON = "未登录";
const problem = browserProblem();

// JWT sessions keep the id_token in the cookie; database sessions (the memory
// adapter here) take it from the accounts row.
for (const strategy of ["jwt", "database"]) describe(`RP-initiated logout with next-auth/react signOut() in Chromium (${strategy} sessions)`, { skip: problem || false }, () => {
  let op, dist, srv, browser;
  before(async () => {
    const opPort = await freePort();
    dist = buildReactApp();
    srv = await startServer({
      args: ["--static", dist],
      env: {
        AUTH_LOCALOIDC_ISSUER: `http://127.0.0.1:${opPort}`, AUTH_LOCALOIDC_ID: OIDC_CLIENT.id,
        AUTH_LOCALOIDC_SECRET: OIDC_CLIENT.secret, AUTHC_LOCALOIDC_NAME: "Local OIDC",
        AUTH_LOCALOIDC_FEDERATED_SIGNOUT: "1",
        ...(strategy === "database" ? { AUTHC_DATABASE: "memory:", AUTHC_SESSION_STRATEGY: "database" } : {}),
      },
    });
    op = await startOidcProvider({
      port: opPort,
      redirectUris: [`${srv.origin}/auth/callback/localoidc`],
      client: { post_logout_redirect_uris: [`${srv.origin}/auth/signout/callback/localoidc`] },
      profile: () => ({ name: "Olivia OIDC", email: "olivia@oidc.example", email_verified: true }),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await op?.stop();
    await srv?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  test("sign in, signOut() → the provider's logout page → back to / signed out", async () => {
    const page = await browser.context.newPage();
    await page.goto(srv.origin + "/");
    await expectText(page, "#greeting", ANON);
    await page.click('button[data-provider="localoidc"]');
    await page.waitForURL((u) => u.origin === op.issuer, { timeout: 10000 });
    await oidcLoginAndConsent(page, "olivia");
    await expectPath(page, "/dashboard", 15000);
    await expectText(page, "#greeting", "欢迎, Olivia OIDC");

    const toProvider = page.waitForURL((u) => u.origin === op.issuer && u.pathname.startsWith("/session/end"),
                                       { timeout: 10000 });
    await page.click("#signout");
    await toProvider;
    const asked = new URL(page.url());
    assert.equal(asked.searchParams.get("post_logout_redirect_uri"), `${srv.origin}/auth/signout/callback/localoidc`);
    assert.ok(asked.searchParams.get("id_token_hint"));
    assert.ok(asked.searchParams.get("state"));
    assert.equal((await browser.context.cookies()).find((c) => c.name === "authjs.session-token"), undefined,
      "signed out locally before leaving");
    // oidc-provider's confirmation: "Yes, sign me out".
    const callback = page.waitForRequest((r) => r.url().startsWith(`${srv.origin}/auth/signout/callback/localoidc?`),
                                         { timeout: 10000 });
    await page.locator('button[name="logout"][value="yes"]').click();
    const cb = new URL((await callback).url());
    assert.equal(cb.searchParams.get("state"), asked.searchParams.get("state"));
    await expectPath(page, "/", 15000);
    await expectText(page, "#greeting", ANON);

    // The provider's session is gone too: signing in again asks for the login.
    await page.click('button[data-provider="localoidc"]');
    await page.waitForURL((u) => u.origin === op.issuer, { timeout: 10000 });
    await page.locator('input[name="login"]').waitFor({ timeout: 10000 });
    await page.close();
  });
});
