// passkey.test.mjs — passkeys end to end: `authc serve` (memory database,
// AUTHC_PASSKEY=1), headless Debian Chromium with CDP virtual authenticators,
// the built-in sign-in page's inline script, and the unmodified
// next-auth/webauthn client bundled with esbuild.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { decode } from "@auth/core/jwt";
import { ALICE, repoRoot, SECRET, startServer } from "./lib/server.mjs";
import { addAuthenticator, browserUnavailable, launchBrowser, PLATFORM_AUTHENTICATOR } from "./lib/passkey-browser.mjs";

const unavailable = await browserUnavailable();
const PASSKEY_ENV = { AUTHC_DATABASE: "memory:", AUTHC_PASSKEY: "1" };
const CALLBACK_RE = /\/auth\/callback\/passkey(\?.*)?$/;

// The browser must talk to http://localhost:<port>: Chromium refuses IP
// addresses as WebAuthn relying party ids, and localhost is a secure context.
function local(srv) {
  const origin = `http://localhost:${srv.port}`;
  return { origin, auth: origin + "/auth" };
}

// Signs out, then removes the page's virtual authenticator and closes it.
async function signOutAndClose(page, o, device) {
  await signOut(page, o);
  await device.remove();
  await page.close();
}

// A button page with a new virtual authenticator whose passkey is
// registered to `email` (signed out again).
async function registeredDevice(browser, o, email) {
  const page = await buttonPage(browser);
  const device = await addAuthenticator(page);
  await signInAs(page, o, email, { email });
  await signOut(page, o);
  return { page, device };
}

// `authc serve` with startServer's options, its localhost origins (o) and a
// browser, for a suite's before(); stopWithBrowser undoes it.
async function startWithBrowser(options) {
  const srv = await startServer(options);
  return { srv, o: local(srv), browser: await launchBrowser() };
}

async function stopWithBrowser(browser, srv) {
  await browser?.close();
  await srv?.stop();
}

// A page for the button flows. Chromium's virtual authenticator answers the
// page's autofill (conditional UI) request at once, where a person would
// pick the passkey from the email field's dropdown; so these pages report
// conditional mediation as unavailable, and autofill has its own test.
async function buttonPage(browser) {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  return page;
}

async function sessionOf(page, o) {
  return page.evaluate(async (u) => (await fetch(u)).json(), o.auth + "/session");
}

// Opens the built-in sign-in page, optionally types an email, presses the
// passkey button (or "Create a passkey") and waits for the redirect.
async function viaSignInPage(page, o, { email = "", register = false, expect = "/auth/session" } = {}) {
  await page.goto(`${o.auth}/signin?callbackUrl=${encodeURIComponent(o.auth + "/session")}`);
  await page.fill("#input-email-for-passkey-provider", email);
  const nav = page.waitForURL((u) => u.pathname.startsWith(expect.split("?")[0]) && !u.pathname.endsWith("/signin"));
  await page.click(register ? "button[data-passkey-register]" : "#submitButton-passkey");
  await nav;
}

// Signs in on the built-in page (viaSignInPage's options) and expects a
// session for `email`.
async function signInAs(page, o, email, options = {}, message = undefined) {
  await viaSignInPage(page, o, options);
  assert.equal((await sessionOf(page, o))?.user?.email, email, message);
}

async function signOut(page, o) {
  await page.goto(o.auth + "/signout");
  await Promise.all([page.waitForNavigation(), page.click("#submitButton")]);
  assert.equal(await sessionOf(page, o), null, "signed out");
}

describe("passkeys in a real browser", { skip: unavailable || false }, () => {
  let srv, browser, o;
  before(async () => ({ srv, o, browser } = await startWithBrowser({ usersFile: false, env: PASSKEY_ENV })));
  after(() => stopWithBrowser(browser, srv));

  test("register on the built-in page, sign out, sign in again with the passkey", async () => {
    const page = await buttonPage(browser);
    const device = await addAuthenticator(page);
    await page.goto(o.auth + "/signin");
    // The page carries its own ceremony script (nothing from a CDN).
    const html = await page.content();
    assert.equal(await page.locator('form#passkey-form[action$="/auth/callback/passkey"]').count(), 1, "Auth.js form");
    assert.equal(await page.locator('button[data-passkey-register][form="passkey-form"]').count(), 1, "Create a passkey");
    assert.equal(await page.locator("#input-email-for-passkey-provider").getAttribute("autocomplete"), "username webauthn");
    assert.ok(html.includes("<script>(function(){"), "inline script");
    assert.ok(!/<script[^>]*src=/.test(html) && !/<link/.test(html), "nothing loaded from elsewhere");

    await viaSignInPage(page, o, { email: "ada@example.com" });
    const s1 = await sessionOf(page, o);
    assert.equal(s1?.user?.email, "ada@example.com", `session after registration: ${JSON.stringify(s1)}`);
    const creds = await device.credentials();
    assert.equal(creds.length, 1, "one passkey on the device");
    assert.equal(creds[0].rpId, "localhost");
    assert.equal(creds[0].isResidentCredential, true, "a discoverable credential");

    await signOut(page, o);
    // Discoverable sign-in: no email typed.
    await viaSignInPage(page, o);
    const s2 = await sessionOf(page, o);
    assert.equal(s2?.user?.email, "ada@example.com");
    assert.ok((await device.credentials())[0].signCount >= 2, "the counter moved");

    // By email (allowCredentials) works too.
    await signOut(page, o);
    await signInAs(page, o, "ada@example.com", { email: "ada@example.com" });
    await signOutAndClose(page, o, device);
  });

  test("a second device is added to the signed-in user; both sign in", async () => {
    const page = await buttonPage(browser);
    const first = await addAuthenticator(page);
    await signInAs(page, o, "grace@example.com", { email: "grace@example.com" });
    const [firstCred] = await first.credentials();
    await first.remove();

    // Signed in, "Create a passkey" registers the new device to this user.
    const second = await addAuthenticator(page);
    await signInAs(page, o, "grace@example.com", { register: true });
    assert.equal((await second.credentials()).length, 1, "the second device holds its own passkey");

    await signOut(page, o);
    await signInAs(page, o, "grace@example.com", {}, "second device signs in");
    await signOut(page, o);
    await second.remove();

    // The first device (its key restored into a new virtual authenticator)
    // still signs in to the same user.
    const again = await addAuthenticator(page);
    await again.cdp.send("WebAuthn.addCredential", { authenticatorId: again.id, credential: firstCred });
    await signInAs(page, o, "grace@example.com", {}, "first device signs in");
    await signOutAndClose(page, o, again);
  });

  test("a tampered response is refused with WebAuthnVerificationError, no session", async () => {
    const { page, device } = await registeredDevice(browser, o, "eve@example.com");
    // Flip one byte of the assertion signature on its way to the callback.
    let tampered = false;
    await page.route(CALLBACK_RE, async (route) => {
      const form = new URLSearchParams(route.request().postData() || "");
      const data = JSON.parse(form.get("data"));
      const sig = Buffer.from(data.response.signature, "base64url");
      sig[sig.length - 5] ^= 0x01;
      data.response.signature = sig.toString("base64url");
      form.set("data", JSON.stringify(data));
      tampered = true;
      await route.continue({ postData: form.toString() });
    });
    await viaSignInPage(page, o, { expect: "/auth/error" });
    assert.ok(tampered, "the callback request was intercepted");
    const url = new URL(page.url());
    assert.equal(url.pathname, "/auth/error");
    assert.equal(url.searchParams.get("error"), "WebAuthnVerificationError");
    assert.equal(await sessionOf(page, o), null, "no session after a refused ceremony");
    assert.match(srv.stderr(), /WebAuthnVerificationError: authentication refused: assertion signature does not verify/);
    await page.unroute(CALLBACK_RE);
    // The untouched ceremony still works.
    await signInAs(page, o, "eve@example.com");
    await signOutAndClose(page, o, device);
  });

  test("autofill (conditional UI): the page signs in as soon as the browser offers the passkey", async () => {
    const { page, device } = await registeredDevice(browser, o, "auto@example.com");
    const [cred] = await device.credentials();
    await device.remove();
    await page.close();
    // A page without the override: the script's conditional request gets
    // the virtual authenticator's answer with no click at all.
    const auto = await browser.newPage();
    const again = await addAuthenticator(auto);
    await again.cdp.send("WebAuthn.addCredential", { authenticatorId: again.id, credential: cred });
    const landed = auto.waitForURL((u) => u.pathname === "/auth/session");
    await auto.goto(`${o.auth}/signin?callbackUrl=${encodeURIComponent(o.auth + "/session")}`);
    await landed;
    assert.equal((await sessionOf(auto, o))?.user?.email, "auto@example.com");
    await signOutAndClose(auto, o, again);
  });

  test("the challenge cookie is the one Auth.js reads (two sealed layers)", async () => {
    const r = await fetch(`${o.auth}/webauthn-options/passkey?email=interop@example.com`);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.action, "register");
    const ck = r.headers.getSetCookie().find((c) => c.startsWith("authjs.challenge="));
    assert.ok(ck, "challenge cookie set");
    assert.match(ck, /Max-Age=900; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/);
    const outer = await decode({ token: decodeURIComponent(ck.split(";")[0].split("=")[1]), secret: SECRET, salt: "authjs.challenge" });
    assert.equal(outer.provider, "passkey");
    const inner = await decode({ token: outer.value, secret: SECRET, salt: "encodedWebauthnChallenge" });
    assert.equal(inner.challenge, body.options.challenge);
    assert.deepEqual(inner.registerData, { email: "interop@example.com" });
  });
});

// The same flow stored in SQLite (the Authenticator table of the schema).
describe("passkeys with the sqlite adapter", { skip: unavailable || false }, () => {
  let srv, browser, o, dbDir;
  before(async () => {
    dbDir = mkdtempSync(path.join(os.tmpdir(), "authc-passkey-db-"));
    ({ srv, o, browser } = await startWithBrowser({
      usersFile: false, env: { ...PASSKEY_ENV, AUTHC_DATABASE: `sqlite:${dbDir}/authc.db` },
    }));
  });
  after(async () => {
    await stopWithBrowser(browser, srv);
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  test("register, sign out, sign in; a second passkey for the same user", async () => {
    const { page, device } = await registeredDevice(browser, o, "sql@example.com");
    await signInAs(page, o, "sql@example.com");
    await device.remove();
    const second = await addAuthenticator(page);
    await viaSignInPage(page, o, { register: true });
    await signOut(page, o);
    await signInAs(page, o, "sql@example.com");
    // Signed in, the options list both passkeys as excluded.
    const opts = await page.evaluate(async (u) => (await fetch(u)).json(), o.auth + "/webauthn-options/passkey?action=register");
    assert.equal(opts.action, "register");
    assert.equal(opts.options.excludeCredentials.length, 2);
    assert.deepEqual(opts.options.excludeCredentials.map((c) => c.transports), [["internal"], ["internal"]]);
    await signOutAndClose(page, o, second);
  });
});

// `make run`'s shape: JWT sessions, a credentials users file, passkeys in
// the database.
describe("passkeys beside credentials with JWT sessions (make run)", { skip: unavailable || false }, () => {
  let srv, browser, o;
  before(async () => ({ srv, o, browser } = await startWithBrowser({ env: { ...PASSKEY_ENV, AUTHC_SESSION_STRATEGY: "jwt" } })));
  after(() => stopWithBrowser(browser, srv));

  test("a passkey user, and a credentials user who adds a passkey", async () => {
    const { page, device } = await registeredDevice(browser, o, "jwt@example.com");
    await signInAs(page, o, "jwt@example.com");
    await signOut(page, o);
    await device.remove();

    // Alice signs in with her password, then creates a passkey.
    await page.goto(`${o.auth}/signin?callbackUrl=${encodeURIComponent(o.auth + "/session")}`);
    await page.fill("#input-username-for-credentials-provider", ALICE.username);
    await page.fill("#input-password-for-credentials-provider", ALICE.password);
    await Promise.all([page.waitForURL((u) => u.pathname === "/auth/session"), page.click("form[action$='/callback/credentials'] button")]);
    assert.equal((await sessionOf(page, o))?.user?.email, ALICE.email);
    const second = await addAuthenticator(page);
    await viaSignInPage(page, o, { register: true });
    assert.equal((await second.credentials()).length, 1);
    await signOut(page, o);
    await viaSignInPage(page, o);
    const s = await sessionOf(page, o);
    assert.equal(s?.user?.email, ALICE.email, "the passkey signs in to an account with Alice's email");
    await signOutAndClose(page, o, second);
  });
});

// ---------------------------------------------------------------------------
// The unmodified next-auth/webauthn client. Its dependency
// @simplewebauthn/browser must be resolvable (repo node_modules, or a
// directory in AUTHC_NODE_PATH).
const require = createRequire(path.join(repoRoot, "package.json"));
const nodePaths = (process.env.AUTHC_NODE_PATH || "").split(path.delimiter).filter(Boolean);
function resolvable(name) {
  try {
    require.resolve(name);
    return true;
  } catch {
    return nodePaths.some((p) => existsSync(path.join(p, name, "package.json")));
  }
}
const clientMissing = !resolvable("@simplewebauthn/browser")
  ? "@simplewebauthn/browser (a dependency of next-auth/webauthn) is not installed" : null;

describe("next-auth/webauthn signIn(\"passkey\") against authc", { skip: unavailable || clientMissing || false }, () => {
  let srv, browser, o, dir;
  before(async () => {
    const esbuild = await import("esbuild");
    dir = mkdtempSync(path.join(os.tmpdir(), "authc-passkey-app-"));
    // authc serves the app page and bundle from the static dir (written
    // once the port, hence NEXTAUTH_URL, is known).
    srv = await startServer({ usersFile: false, env: PASSKEY_ENV, args: ["--static", dir] });
    o = local(srv);
    const entry = path.join(dir, "entry.mjs");
    writeFileSync(entry, [
      'import { signIn } from "next-auth/webauthn";',
      'import { signOut, getSession } from "next-auth/react";',
      "window.nextAuth = { signIn, signOut, getSession };",
    ].join("\n"));
    await esbuild.build({
      entryPoints: [entry], bundle: true, format: "iife", outfile: path.join(dir, "app.js"),
      nodePaths: [path.join(repoRoot, "node_modules"), ...nodePaths], absWorkingDir: repoRoot,
      // next-auth/react takes its base path from NEXTAUTH_URL; a browser
      // has no other process.env.
      define: { "process.env": JSON.stringify({ NEXTAUTH_URL: o.auth, NODE_ENV: "production" }) },
      logLevel: "silent",
    });
    writeFileSync(path.join(dir, "index.html"), '<!DOCTYPE html><meta charset="utf-8"><title>next-auth webauthn</title><script src="/app.js"></script><p>app</p>');
    browser = await launchBrowser();
  });
  after(async () => {
    await stopWithBrowser(browser, srv);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("register, sign out, sign in, add a second passkey — through the client", async () => {
    const page = await browser.newPage();
    const device = await addAuthenticator(page, PLATFORM_AUTHENTICATOR);
    await page.goto(o.origin + "/");
    await page.waitForFunction(() => window.nextAuth);

    const reg = await page.evaluate(() => window.nextAuth.signIn("passkey", { email: "lin@example.com", redirect: false }));
    assert.equal(reg?.ok, true, `register: ${JSON.stringify(reg)}`);
    assert.equal(reg.error, null);
    assert.equal((await sessionOf(page, o))?.user?.email, "lin@example.com");

    await page.evaluate(() => window.nextAuth.signOut({ redirect: false }));
    assert.equal(await sessionOf(page, o), null);

    const auth = await page.evaluate(() => window.nextAuth.signIn("passkey", { redirect: false }));
    assert.equal(auth?.ok, true, `authenticate: ${JSON.stringify(auth)}`);
    assert.equal((await sessionOf(page, o))?.user?.email, "lin@example.com");

    // Signed in: action "register" adds a passkey from a second device.
    await device.remove();
    const second = await addAuthenticator(page, PLATFORM_AUTHENTICATOR);
    const add = await page.evaluate(() => window.nextAuth.signIn("passkey", { action: "register", redirect: false }));
    assert.equal(add?.ok, true, `second passkey: ${JSON.stringify(add)}`);
    assert.equal((await second.credentials()).length, 1);
    await page.evaluate(() => window.nextAuth.signOut({ redirect: false }));
    const back = await page.evaluate(() => window.nextAuth.signIn("passkey", { redirect: false }));
    assert.equal(back?.ok, true);
    assert.equal((await sessionOf(page, o))?.user?.email, "lin@example.com");

    // A refused ceremony comes back as the Auth.js error code.
    await page.evaluate(() => window.nextAuth.signOut({ redirect: false }));
    await page.route(CALLBACK_RE, async (route) => {
      const form = new URLSearchParams(route.request().postData() || "");
      const data = JSON.parse(form.get("data"));
      data.response.clientDataJSON = Buffer.from(
        Buffer.from(data.response.clientDataJSON, "base64url").toString().replace(/"origin":"[^"]+"/, '"origin":"http://evil.example"'),
      ).toString("base64url");
      form.set("data", JSON.stringify(data));
      await route.continue({ postData: form.toString() });
    });
    const bad = await page.evaluate(() => window.nextAuth.signIn("passkey", { redirect: false }));
    assert.equal(bad?.error, "WebAuthnVerificationError", JSON.stringify(bad));
    assert.equal(await sessionOf(page, o), null);
    assert.match(srv.stderr(), /origin "http:\/\/evil.example" is not allowed/);
    await second.remove();
    await page.close();
  });
});
