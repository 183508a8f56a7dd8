// email.test.mjs — passwordless sign-in by email against a real SMTP server
// on loopback (protocol.md §8.5): STARTTLS/smtps + AUTH, the received mail,
// confirm-before-consume, single use, expiry, SMTP failures, limits, the
// development log mode, and Auth.js's address normaliser.
import { createHash } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { client, freePort, repoRoot, runAuthc, startServer, SECRET, assertRedirect } from "./lib/server.mjs";
import { confirmForm, linkOf, makeCert, startSmtp, waitForLog } from "./lib/email-helpers.mjs";

const HEX64 = /^[0-9a-f]{64}$/;
const SESSION = "authjs.session-token";
const FROM = "Example Site <no-reply@example.com>";
const sha256hex = (s) => createHash("sha256").update(s).digest("hex");

const { defaultNormalizer } = await import(
  pathToFileURL(path.join(repoRoot, "node_modules/@auth/core/lib/actions/signin/send-token.js")).href);

// Env for an authc whose email provider talks to `smtp` (plain loopback
// unless overridden).
function emailEnv(smtp, extra = {}) {
  return {
    AUTHC_DATABASE: "memory:",
    AUTHC_EMAIL_SERVER: `smtp://127.0.0.1:${smtp.port}`,
    AUTHC_EMAIL_ALLOW_PLAIN: "true",
    AUTHC_EMAIL_FROM: FROM,
    ...extra,
  };
}

// Runs fn(srv, smtp) against an SMTP server (startSmtp's options) and
// `authc serve` (startServer's options from serverOptions(smtp)); stops both.
async function withSmtp(smtpOptions, serverOptions, fn) {
  const smtp = await startSmtp(smtpOptions);
  const srv = await startServer(serverOptions(smtp));
  try {
    return await fn(srv, smtp);
  } finally {
    await srv.stop();
    await smtp.close();
  }
}

// POSTs the sign-in form as the built-in page does.
async function requestLink(go, email, extra = {}) {
  const csrfToken = await go.csrf();
  return go("/signin/email", { form: { csrfToken, email, ...extra }, headers: extra.headers });
}

// GET the link (confirm page), then press its button. Returns the POST.
async function followLink(go, link) {
  const page = await go(link);
  assert.equal(page.status, 200, "GET of the link shows the confirm page");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  const { action, csrf } = confirmForm(await page.text());
  assert.equal(action, link, "the button posts to the link itself");
  assert.match(csrf, HEX64);
  return go(link, { form: { csrfToken: csrf } });
}

async function sessionOf(go) {
  const r = await go("/session");
  return r.json();
}

describe("email sign-in with a real SMTP server", () => {
  let cert;
  before(() => { cert = makeCert(); });
  after(() => cert?.cleanup());

  test("STARTTLS + AUTH: mail received, link followed, session; second use fails", () =>
    withSmtp({ tls: { cert: cert.cert, key: cert.key }, auth: { user: "mailer", pass: "p@ss:w/rd" } }, (smtp) => ({
      env: {
        AUTHC_DATABASE: "memory:",
        AUTHC_EMAIL_SERVER: `smtp://mailer:p%40ss%3Aw%2Frd@localhost:${smtp.port}`,
        AUTHC_EMAIL_CA_FILE: cert.certFile,
        AUTHC_EMAIL_FROM: FROM,
      },
    }), async (srv, smtp) => {
      const go = client(srv);
      const r = await requestLink(go, "  Alice@Example.COM ", { callbackUrl: "/dashboard" });
      assertRedirect(r, `${srv.base}/verify-request?provider=email&type=email`);
      const msg = await smtp.waitFor(1);
      assert.equal(msg.secure, true, "STARTTLS was used");
      assert.equal(msg.user, "mailer", "AUTH with the URL's percent-decoded credentials");
      assert.equal(msg.envelope.from, "no-reply@example.com");
      assert.deepEqual(msg.envelope.to, ["alice@example.com"]);
      const host = `127.0.0.1:${srv.port}`;
      assert.equal(msg.mail.subject, `Sign in to ${host}`);
      assert.equal(msg.mail.from.value[0].address, "no-reply@example.com");
      assert.equal(msg.mail.from.value[0].name, "Example Site");
      assert.equal(msg.mail.to.value[0].address, "alice@example.com");
      assert.match(msg.raw, /Content-Type: multipart\/alternative/);
      assert.ok(msg.mail.html, "has an HTML part");
      assert.ok(msg.mail.text.startsWith(`Sign in to ${host}\n`), "Auth.js's text first line");
      const link = linkOf(msg);
      // The link is exactly what Auth.js builds with URLSearchParams.
      const u = new URL(link);
      const token = u.searchParams.get("token");
      assert.match(token, HEX64);
      const expected = `${srv.base}/callback/email?${new URLSearchParams({
        callbackUrl: `${srv.origin}/dashboard`, token, email: "alice@example.com" })}`;
      assert.equal(link, expected);

      // Another browser (the mail app's) follows it.
      const phone = client(srv);
      const signedIn = await followLink(phone, link);
      assertRedirect(signedIn, `${srv.origin}/dashboard`);
      const cookie = signedIn.headers.getSetCookie().find((c) => c.startsWith(`${SESSION}=`));
      assert.ok(cookie, "session cookie");
      const s = await sessionOf(phone);
      assert.equal(s.user.email, "alice@example.com");

      // Second use.
      const again = await followLink(client(srv), link);
      assertRedirect(again, `${srv.base}/error?error=Verification`);
      const errPage = await client(srv)(`${srv.base}/error?error=Verification`);
      assert.equal(errPage.status, 403);
      // The log never shows the token (nor its hash).
      const log = await waitForLog(srv, /error Verification action=callback/);
      assert.match(log, /signIn provider=email/);
      assert.ok(!log.includes(token), "token not in the server log");
      assert.ok(!log.includes(sha256hex(token + SECRET)), "hash not in the server log");
    }));

  test("smtps:// (TLS from the start) and a Chinese mail", () =>
    withSmtp({ secure: true, tls: { cert: cert.cert, key: cert.key } }, (smtp) => ({
      env: {
        AUTHC_DATABASE: "memory:",
        AUTHC_EMAIL_SERVER: `smtps://localhost:${smtp.port}`,
        AUTHC_EMAIL_CA_FILE: cert.certFile,
        AUTHC_EMAIL_FROM: "示例网站 <no-reply@example.com>",
      },
    }), async (srv, smtp) => {
      const go = client(srv);
      const r = await requestLink(go, "bob@example.com", { headers: { "accept-language": "zh-CN,zh;q=0.9,en;q=0.5" } });
      assert.equal(r.status, 302);
      const msg = await smtp.waitFor(1);
      assert.equal(msg.secure, true);
      assert.equal(msg.mail.subject, `登录 127.0.0.1:${srv.port}`);
      assert.equal(msg.mail.from.value[0].name, "示例网站");
      assert.match(msg.mail.text, /此链接只能使用一次/);
      assert.match(msg.mail.html, /lang="zh-CN"/);
      // Headers on the wire are ASCII (RFC 2047), bodies quoted-printable.
      const head = msg.raw.slice(0, msg.raw.indexOf("\r\n\r\n"));
      assert.ok(/^[\x00-\x7f]*$/.test(head), "ASCII headers");
      assert.match(head, /Subject: =\?UTF-8\?B\?/);
      assert.match(msg.raw, /Content-Transfer-Encoding: quoted-printable/);
      const link = linkOf(msg);
      const ok = await followLink(client(srv), link);
      assertRedirect(ok, srv.origin);
    }));

  test("smtp:// refuses to send in the clear when the server offers no STARTTLS", () =>
    withSmtp({}, (smtp) => ({ env: { ...emailEnv(smtp), AUTHC_EMAIL_ALLOW_PLAIN: undefined } }), async (srv, smtp) => {
      const r = await requestLink(client(srv), "carol@example.com");
      assert.equal(r.headers.get("location"), `${srv.base}/error?error=Configuration`);
      assert.equal(smtp.messages.length, 0, "nothing sent");
      await waitForLog(srv, /EmailSignInError/);
    }));
});

describe("email links", () => {
  let smtp, srv;
  before(async () => {
    smtp = await startSmtp({});
    srv = await startServer({ env: emailEnv(smtp, { AUTHC_EMAIL_LIMIT_PER_ADDRESS: "off", AUTHC_EMAIL_LIMIT_PER_CLIENT: "off" }) });
  });
  after(async () => { await srv?.stop(); await smtp?.close(); });

  async function freshLink(email) {
    const n = smtp.messages.length;
    const r = await requestLink(client(srv), email);
    assert.equal(r.status, 302, await r.text());
    return linkOf(await smtp.waitFor(n + 1));
  }

  test("a scanner's pre-fetch (GET, HEAD-like repeats, no cookies) does not use the token", async () => {
    const link = await freshLink("dave@example.com");
    for (let i = 0; i < 3; i++) {
      const g = await fetch(link, { redirect: "manual" });
      assert.equal(g.status, 200);
      assert.ok(!g.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`)), "no session from a GET");
      // The link's email is unverified until the POST: not shown as text.
      const html = await g.text();
      assert.match(html, /Continue signing in/);
      assert.doesNotMatch(html.replace(/<form[^>]*>/g, ""), /dave@example\.com/);
      assert.equal(g.headers.get("x-frame-options"), "DENY");
    }
    // A POST without this browser's CSRF token does not use it either.
    const forged = await fetch(link, { method: "POST", redirect: "manual" });
    assert.equal(forged.status, 302);
    assert.match(forged.headers.get("location"), /error=MissingCSRF/);
    const ok = await followLink(client(srv), link);
    assert.equal(ok.status, 302);
    assert.ok(ok.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`)));
  });

  test("a link for one address cannot sign in another; garbage tokens fail", async () => {
    const link = await freshLink("erin@example.com");
    const other = new URL(link);
    other.searchParams.set("email", "mallory@example.com");
    const r = await followLink(client(srv), other.href);
    assert.equal(r.headers.get("location"), `${srv.base}/error?error=Verification`);
    const bad = new URL(link);
    bad.searchParams.set("token", "0".repeat(64));
    const r2 = await followLink(client(srv), bad.href);
    assert.equal(r2.headers.get("location"), `${srv.base}/error?error=Verification`);
    // Without a token at all: Configuration (as Auth.js).
    const r3 = await client(srv)(`/callback/email?email=erin%40example.com`);
    assert.equal(r3.headers.get("location"), `${srv.base}/error?error=Configuration`);
    // The lookup matches identifier AND token, so the tampered links did
    // not burn the real one.
    const r4 = await followLink(client(srv), link);
    assert.equal(r4.headers.get("location"), srv.origin);
  });

  test("the same answer whether or not the address has an account", async () => {
    await followLink(client(srv), await freshLink("frank@example.com")); // frank now exists
    const a = await requestLink(client(srv), "frank@example.com");
    const b = await requestLink(client(srv), "nobody-here@example.com");
    assert.equal(a.status, b.status);
    assert.equal(a.headers.get("location"), b.headers.get("location"));
    assert.equal(await a.text(), await b.text());
  });

  test("the address is normalised exactly as Auth.js's defaultNormalizer", async () => {
    const inputs = [
      "  Grace@Example.COM ", "ＨＥＩＤＩ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "ivan@example.com,evil@attacker.test",
      "judy@example.com,", "ΌΣΟΣ@example.gr", "İstanbul@example.com", "ﬁle@example.com", "①@②.example",
      "ｶﾞ@example.jp", "e\u0301@example.fr", "\u3000kim@example.com\ufeff", "Straße@Example.de",
      "\"q\"@example.com", "a@b@example.com", "@example.com", "nobody", "",
    ];
    for (const input of inputs) {
      let want;
      try { want = defaultNormalizer(input); } catch { want = null; }
      const n = smtp.messages.length;
      const r = await requestLink(client(srv), input);
      if (want === null) {
        assert.equal(r.headers.get("location"), `${srv.base}/error?error=Configuration`, `refused: ${JSON.stringify(input)}`);
        continue;
      }
      assert.equal(r.status, 302, JSON.stringify(input));
      assert.equal(r.headers.get("location"), `${srv.base}/verify-request?provider=email&type=email`, JSON.stringify(input));
      const msg = await smtp.waitFor(n + 1);
      assert.deepEqual(msg.envelope.to, [want], `RCPT for ${JSON.stringify(input)}`);
      assert.equal(new URL(linkOf(msg)).searchParams.get("email"), want);
    }
  });

  test("stricter than Auth.js: addresses that could split an envelope are refused", async () => {
    for (const input of ["a,b@example.com", "a b@example.com", "a<b>@example.com", "a;b@example.com"]) {
      assert.notEqual(defaultNormalizer(input), null, "Auth.js accepts it");
      const n = smtp.messages.length;
      const r = await requestLink(client(srv), input);
      assert.equal(r.headers.get("location"), `${srv.base}/error?error=Configuration`, input);
      assert.equal(smtp.messages.length, n, "nothing sent");
    }
  });

  test("the JSON client (X-Auth-Return-Redirect) gets {url}", async () => {
    const go = client(srv);
    const csrfToken = await go.csrf();
    const r = await go("/signin/email", { form: { csrfToken, email: "kate@example.com" }, headers: { "x-auth-return-redirect": "1" } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { url: `${srv.base}/verify-request?provider=email&type=email` });
  });
});

describe("expiry, Auth.js mode, failures, limits", () => {
  test("an expired link fails with Verification (maxAge 1 s)", () =>
    withSmtp({}, (smtp) => ({ env: emailEnv(smtp, { AUTHC_EMAIL_MAX_AGE: "1" }) }), async (srv, smtp) => {
      await requestLink(client(srv), "liam@example.com");
      const msg = await smtp.waitFor(1);
      assert.match(msg.mail.text, /expires in 1 second/);
      await new Promise((r) => setTimeout(r, 1300));
      const r = await followLink(client(srv), linkOf(msg));
      assert.equal(r.headers.get("location"), `${srv.base}/error?error=Verification`);
      await waitForLog(srv, /expired/);
    }));

  test("AUTHC_EMAIL_CONFIRM=false: the GET signs in, as Auth.js", () =>
    withSmtp({}, (smtp) => ({ env: emailEnv(smtp, { AUTHC_EMAIL_CONFIRM: "false" }) }), async (srv, smtp) => {
      await requestLink(client(srv), "mia@example.com", { callbackUrl: `/x?y=1` });
      const link = linkOf(await smtp.waitFor(1));
      const go = client(srv);
      const r = await go(link);
      assertRedirect(r, `${srv.origin}/x?y=1`);
      assert.equal((await sessionOf(go)).user.email, "mia@example.com");
      const again = await client(srv)(link);
      assert.equal(again.headers.get("location"), `${srv.base}/error?error=Verification`);
    }));

  test("SMTP down: error page, a log line, no crash", async () => {
    const port = await freePort(); // nothing listens there
    const srv = await startServer({ env: emailEnv({ port }, { AUTHC_EMAIL_TIMEOUT: "5" }) });
    try {
      const go = client(srv);
      const r = await requestLink(go, "noah@example.com");
      assertRedirect(r, `${srv.base}/error?error=Configuration`);
      assert.ok(!r.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`)));
      await waitForLog(srv, /EmailSignInError: the sign-in mail was not sent: SMTP 127\.0\.0\.1:\d+/);
      await waitForLog(srv, /token was deleted/);
      assert.ok(await srv.alive(), "server still answers");
    } finally {
      await srv.stop();
    }
  });

  test("SMTP refuses the message after DATA: the delivered-looking link does not work", () =>
    withSmtp({ failData: true }, (smtp) => ({ env: emailEnv(smtp) }), async (srv, smtp) => {
      const r = await requestLink(client(srv), "olivia@example.com");
      assert.equal(r.headers.get("location"), `${srv.base}/error?error=Configuration`);
      const msg = await smtp.waitFor(1); // the server saw it, then said 554
      const res = await followLink(client(srv), linkOf(msg));
      assert.equal(res.headers.get("location"), `${srv.base}/error?error=Verification`);
      await waitForLog(srv, /554/);
    }));

  test("RCPT rejected: Configuration, reply code in the log", () =>
    withSmtp({ rejectRcpt: true }, (smtp) => ({ env: emailEnv(smtp) }), async (srv, smtp) => {
      const r = await requestLink(client(srv), "pat@example.com");
      assert.equal(r.headers.get("location"), `${srv.base}/error?error=Configuration`);
      await waitForLog(srv, /550/);
    }));

  test("limits: per address and per client, answered with the limit page", () =>
    withSmtp({}, (smtp) => ({
      env: emailEnv(smtp, { AUTHC_EMAIL_LIMIT_PER_ADDRESS: "2/600", AUTHC_EMAIL_LIMIT_PER_CLIENT: "4/600" }),
    }), async (srv, smtp) => {
      for (let i = 0; i < 2; i++) assert.equal((await requestLink(client(srv), "quinn@example.com")).status, 302);
      const r = await requestLink(client(srv), "Quinn@Example.com");
      assert.equal(r.status, 429);
      assert.match(r.headers.get("content-type"), /text\/html/);
      assert.ok(Number(r.headers.get("retry-after")) > 0);
      const html = await r.text();
      assert.match(html, /Too many requests/);
      assert.match(html, new RegExp(`href="${srv.base}/signin"`));
      assert.equal(smtp.messages.length, 2, "no third mail");
      // In Chinese.
      const zh = await requestLink(client(srv), "quinn@example.com", { headers: { "accept-language": "zh-CN" } });
      assert.equal(zh.status, 429);
      assert.match(await zh.text(), /请求过于频繁/);
      // Per client: 4 sent in the window (2 + 2 more addresses), then refused.
      assert.equal((await requestLink(client(srv), "rita@example.com")).status, 302);
      assert.equal((await requestLink(client(srv), "sam@example.com")).status, 302);
      const c = await requestLink(client(srv), "tom@example.com");
      assert.equal(c.status, 429);
      assert.equal(smtp.messages.length, 4);
      await waitForLog(srv, /per-client limit reached/);
    }));
});

describe("development log mode and configuration", () => {
  test("AUTHC_EMAIL=log: the link goes to the log, marked DEVELOPMENT ONLY, and works", async () => {
    const srv = await startServer({ env: { AUTHC_DATABASE: "memory:", AUTHC_EMAIL: "log" } });
    try {
      await waitForLog(srv, /DEVELOPMENT ONLY: AUTHC_EMAIL=log/);
      const r = await requestLink(client(srv), "uma@example.com");
      assert.equal(r.headers.get("location"), `${srv.base}/verify-request?provider=email&type=email`);
      const log = await waitForLog(srv, /sign-in link for uma@example\.com/);
      const line = log.split("\n").find((l) => l.includes("sign-in link for uma@example.com"));
      assert.match(line, /DEVELOPMENT ONLY/);
      const link = /(http:\/\/\S+)/.exec(line)[1];
      const go = client(srv);
      const ok = await followLink(go, link);
      assert.equal(ok.status, 302);
      assert.equal((await sessionOf(go)).user.email, "uma@example.com");
      // The built-in sign-in page offers the email form.
      const page = await client(srv)("/signin");
      assert.match(await page.text(), new RegExp(`action="${srv.base}/signin/email"`));
    } finally {
      await srv.stop();
    }
  });

  test("refused configurations name what to set", async () => {
    const port = await freePort();
    const args = ["serve", "--listen", `127.0.0.1:${port}`];
    let r = runAuthc(args, { env: { AUTHC_EMAIL: "log" }, timeout: 5000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /MissingAdapter/);
    assert.match(r.stderr, /AUTHC_DATABASE/);
    r = runAuthc(args, { env: { AUTHC_DATABASE: "memory:", AUTHC_EMAIL: "log", AUTH_URL: "https://app.example.com/auth" }, timeout: 5000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /local development only/);
    r = runAuthc(args, { env: { AUTHC_DATABASE: "memory:", AUTHC_EMAIL_SERVER: "smtp://u:hunter2@mail.example.com", AUTHC_EMAIL_ALLOW_PLAIN: "true", AUTHC_EMAIL_FROM: FROM }, timeout: 5000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /loopback/);
    assert.ok(!r.stderr.includes("hunter2"), "password never printed");
    r = runAuthc(args, { env: { AUTHC_DATABASE: "memory:", AUTHC_EMAIL_SERVER: "smtp://mail.example.com" }, timeout: 5000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /AUTHC_EMAIL_FROM/);
    r = runAuthc(args, { env: { AUTHC_DATABASE: "memory:", AUTHC_EMAIL: "smtp" }, timeout: 5000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /AUTHC_EMAIL_SERVER/);
  });

  test("stored token = sha256(token + secret), as Auth.js (read from the SQLite file)", async () => {
    const smtp = await startSmtp({});
    const dbDir = (await import("node:fs")).mkdtempSync(path.join((await import("node:os")).tmpdir(), "authc-email-db-"));
    const db = path.join(dbDir, "e.db");
    const srv = await startServer({ env: emailEnv(smtp, { AUTHC_DATABASE: `sqlite:${db}` }) });
    try {
      await requestLink(client(srv), "vera@example.com");
      const token = new URL(linkOf(await smtp.waitFor(1))).searchParams.get("token");
      const { spawnSync } = await import("node:child_process");
      const q = spawnSync("sqlite3", [db, 'select identifier, token, expires from "verificationToken";'], { encoding: "utf8" });
      assert.equal(q.status, 0, q.stderr);
      const [identifier, stored] = q.stdout.trim().split("|");
      assert.equal(identifier, "vera@example.com");
      assert.equal(stored, sha256hex(token + SECRET));
      assert.notEqual(stored, token);
    } finally {
      await srv.stop();
      await smtp.close();
      (await import("node:fs")).rmSync(dbDir, { recursive: true, force: true });
    }
  });
});
