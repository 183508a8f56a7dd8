// ops.test.mjs — what an operator sees (issue 12 items 3-4): the metrics
// listener (/metrics through promtool, /livez, /readyz against a real
// PostgreSQL and during a graceful shutdown), JSON logs with request ids,
// escaped log fields, and a scan proving no secret reaches the log.
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ALICE, client, freePort, startServer } from "./lib/server.mjs";
import { startMockOidc, oidcSignIn, startPostgres } from "./lib/db-servers.mjs";
import { confirmForm, waitForLog } from "./lib/email-helpers.mjs";
import { callbackInFlight, startHangingIdp } from "./lib/oauth-servers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts authc with a metrics listener; returns [srv, metricsOrigin].
async function withMetrics(env = {}) {
  const mport = await freePort();
  const srv = await startServer({ env: { AUTHC_METRICS_LISTEN: `127.0.0.1:${mport}`, ...env } });
  return [srv, `http://127.0.0.1:${mport}`];
}

const jsonLines = (log) => log.split("\n").filter((l) => l.trim()).map((l) => {
  try { return JSON.parse(l); } catch { throw new Error(`log line is not JSON: ${l}`); }
});

test("/metrics passes promtool after sign-ins and counts them; /livez answers", async () => {
  const [srv, m] = await withMetrics();
  try {
    const go = client(srv);
    assert.equal((await go.signIn()).status, 302);
    assert.equal((await client(srv).signIn(ALICE.username, "wrong password")).status, 302);
    const live = await fetch(m + "/livez");
    assert.equal(live.status, 200);
    // A request is counted when it ends (its pool is freed after the answer
    // is written), so the scrape may come a moment before the last count.
    let r, text;
    for (let i = 0; i < 100; i++) {
      r = await fetch(m + "/metrics");
      text = await r.text();
      if (/^authc_http_requests_total\{action="callback",method="POST",code="302"\} 2$/m.test(text)) break;
      await new Promise((ok) => setTimeout(ok, 20));
    }
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
    const pc = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(pc.status, 0, `promtool: ${pc.stdout}${pc.stderr}`);
    assert.match(text, /^authc_signin_total\{provider="credentials",result="success"\} 1$/m);
    assert.match(text, /^authc_signin_total\{provider="credentials",result="CredentialsSignin"\} 1$/m);
    assert.match(text, /^authc_http_requests_total\{action="callback",method="POST",code="302"\} 2$/m);
    assert.match(text, /^authc_http_requests_total\{action="csrf",method="GET",code="200"\} 2$/m);
    for (const fam of ["authc_signout_total", "authc_forward_auth_total", "authc_token_refresh_total",
      "authc_logout_total", "authc_session_revocations_total", "authc_ratelimit_total",
      "authc_provider_request_duration_seconds", "authc_adapter_errors_total", "authc_email_sent_total"])
      assert.match(text, new RegExp(`^# TYPE ${fam} `, "m"), `${fam} is declared`);
    assert.equal((await fetch(m + "/nope")).status, 404);
  } finally {
    await srv.stop();
  }
});

test("/readyz follows PostgreSQL: 503 within 2 s of stopping it, 200 again after it restarts", { timeout: 120_000 }, async () => {
  const pg = await startPostgres();
  let srv;
  try {
    let m;
    [srv, m] = await withMetrics({ AUTHC_DATABASE: pg.url, AUTHC_SESSION_STRATEGY: "jwt" });
    const ready = await fetch(m + "/readyz");
    assert.equal(ready.status, 200, await ready.text());
    await pg.stop();
    const stoppedAt = Date.now();
    let r;
    do {
      r = await fetch(m + "/readyz");
      if (r.status === 503) break;
      await r.arrayBuffer();
      await sleep(100);
    } while (Date.now() - stoppedAt < 2000);
    assert.equal(r.status, 503, "not ready within 2 s of the database stopping");
    assert.deepEqual(await r.json(), { status: "DOWN", checks: [{ name: "database", status: "DOWN" }] });
    assert.equal((await fetch(m + "/livez")).status, 200, "alive all the same");
    await pg.start();
    const deadline = Date.now() + 20_000;
    do {
      r = await fetch(m + "/readyz");
      await r.arrayBuffer();
      if (r.status === 200) break;
      await sleep(200);
    } while (Date.now() < deadline);
    assert.equal(r.status, 200, "ready again once PostgreSQL is back");
  } finally {
    if (srv) await srv.stop();
    await pg.close();
  }
});

test("/readyz is 503 from the start of a graceful shutdown", { timeout: 60_000 }, async () => {
  const idp = await startHangingIdp(2500);
  const [srv, m] = await withMetrics({ AUTH_GITHUB_ID: "x", AUTH_GITHUB_SECRET: "y", AUTHC_GITHUB_BASE_URL: idp.base });
  try {
    assert.equal((await fetch(m + "/readyz")).status, 200);
    const { inflight } = await callbackInFlight(srv, idp);
    assert.equal(idp.hits(), 1, "the callback is waiting on the provider");
    process.kill(srv.pid, "SIGTERM");
    await waitForLog(srv, /received SIGTERM/);
    const down = await fetch(m + "/readyz");
    assert.equal(down.status, 503);
    assert.equal((await down.json()).status, "DOWN");
    assert.equal((await inflight).status, 302, "the request in flight is still answered");
    const st = await srv.stop();
    assert.equal(st.code, 0);
  } finally {
    await srv.stop().catch(() => {});
    await idp.stop();
  }
});

test("AUTHC_LOG_FORMAT=json: one object per request with the echoed X-Request-Id", async () => {
  const srv = await startServer({ env: { AUTHC_LOG_FORMAT: "json" } });
  try {
    const go = client(srv);
    const mine = await go("/csrf?x=secret-query", { headers: { "x-request-id": "req-42.abc" } });
    assert.equal(mine.headers.get("x-request-id"), "req-42.abc");
    const forged = await go("/providers", { headers: { "x-request-id": "bad id with spaces" } });
    const fresh = forged.headers.get("x-request-id");
    assert.match(fresh, /^[0-9a-f]{32}$/, "an unusable id is replaced by a new one");
    assert.equal((await go.signIn()).status, 302);
    await waitForLog(srv, /"action":"callback"/);
    const lines = jsonLines(srv.stderr());
    const req = lines.find((l) => l.msg === "request" && l.request_id === "req-42.abc");
    assert.ok(req, "the request line carries the incoming id");
    assert.equal(req.method, "GET");
    assert.equal(req.action, "csrf");
    assert.equal(req.path, "/auth/csrf", "the path is logged without its query");
    assert.equal(req.status, 200);
    assert.equal(typeof req.duration_ms, "number");
    assert.equal(req.client_ip, "127.0.0.1");
    assert.ok(lines.find((l) => l.msg === "request" && l.request_id === fresh));
    const auth = lines.find((l) => l.msg === "auth" && l.event === "signin");
    assert.equal(auth.result, "success");
    assert.equal(auth.provider, "credentials");
    assert.equal(auth.user_id, ALICE.id);
    const cb = lines.find((l) => l.msg === "request" && l.action === "callback");
    assert.equal(cb.user_id, ALICE.id);
    assert.equal(cb.request_id, auth.request_id);
  } finally {
    await srv.stop();
  }
});

// Issue 13 item 7: a percent-encoded CR/LF in a provider id must not start
// a new log line, in either format.
for (const format of ["json", "text"]) {
  test(`a CR/LF in a provider id cannot forge a log line (${format})`, async () => {
    const srv = await startServer({ env: { AUTHC_LOG_FORMAT: format } });
    try {
      const forged = "%0d%0a2026-01-01T00:00:00.000Z%20info%20%20forged%0a%7B%22msg%22:%22forged%22%7D";
      const r = await client(srv)(`/signin/x${forged}`);
      await r.arrayBuffer();
      await waitForLog(srv, /Configuration/);
      for (const line of srv.stderr().split("\n").filter(Boolean)) {
        assert.doesNotMatch(line, /^(2026-01-01T00:00:00\.000Z|\{"msg")/, `forged line: ${line}`);
        if (format === "json") JSON.parse(line);
        else assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z /, `every text line starts with a timestamp: ${line}`);
      }
      assert.match(srv.stderr(), /x\\r\\n2026-01-01/, "the bytes are there, escaped");
    } finally {
      await srv.stop();
    }
  });
}

// Every value in `secrets` must be absent from the log (the email link may
// appear only in its DEVELOPMENT ONLY line, which exists to carry it).
function assertNoSecrets(log, secrets, linkLine) {
  const lines = log.split("\n").filter((l) => !(linkLine && l.includes("DEVELOPMENT ONLY (AUTHC_EMAIL=log")));
  const rest = lines.join("\n");
  for (const [what, v] of secrets) {
    if (!v || v.length < 6) continue;
    assert.equal(rest.includes(v), false, `${what} appears in the log`);
    assert.equal(rest.includes(encodeURIComponent(v)), false, `${what} (URL-encoded) appears in the log`);
  }
  assert.doesNotMatch(rest, /eyJ[\w-]{8,}/, "no JWT or JWE in the log");
  assert.doesNotMatch(rest, /at-[0-9a-f]{8}-/, "no access token of the mock issuer in the log");
}

for (const format of ["json", "text"]) {
  test(`log scan (${format}): sign-ins leave no cookie, token, code, state or password in the log`, { timeout: 60_000 }, async () => {
    const oidc = await startMockOidc();
    const srv = await startServer({
      env: { AUTHC_LOG_FORMAT: format, AUTHC_DATABASE: "memory:", AUTHC_EMAIL: "log", AUTHC_SESSION_STRATEGY: "jwt", ...oidc.env("mock") },
    });
    try {
      const secrets = [["password", ALICE.password]];
      const remember = (go) => { for (const [k, v] of go.jar.map) secrets.push([`cookie ${k}`, v]); };
      // Credentials: right and wrong password.
      const a = client(srv);
      assert.equal((await a.signIn()).status, 302);
      remember(a);
      secrets.push(["csrf token", await a.csrf()]);
      const wrong = "Wrong-Password-123";
      secrets.push(["wrong password", wrong]);
      await (await client(srv).signIn(ALICE.username, wrong)).arrayBuffer();
      // OIDC: the authorization code and state pass through the callback URL.
      const o = client(srv);
      const csrfToken = await o.csrf();
      const r1 = await o("/signin/mock", { form: { csrfToken, callbackUrl: "/" } });
      const authz = new URL(r1.headers.get("location"));
      secrets.push(["state", authz.searchParams.get("state")], ["nonce", authz.searchParams.get("nonce")],
        ["code_challenge", authz.searchParams.get("code_challenge")]);
      const r2 = await fetch(authz, { redirect: "manual" });
      const back = new URL(r2.headers.get("location"));
      secrets.push(["code", back.searchParams.get("code")]);
      const r3 = await o(back.toString());
      assert.equal(r3.status, 302);
      remember(o);
      assert.equal((await oidcSignIn(client(srv))).status, 302);
      // Email link (log mode): the token is only in its own line.
      const e = client(srv);
      const ecsrf = await e.csrf();
      assert.equal((await e("/signin/email", { form: { csrfToken: ecsrf, email: "scan@example.com" } })).status, 302);
      const log = await waitForLog(srv, /sign-in link for scan@example\.com/);
      const line = log.split("\n").find((l) => l.includes("sign-in link for scan@example.com"));
      const link = /(http:\/\/[^\s"]+)/.exec(line)[1].replace(/\\u0026/g, "&");
      secrets.push(["email token", new URL(link).searchParams.get("token")]);
      const page = await e(link);
      const { csrf } = confirmForm(await page.text());
      assert.equal((await e(link, { form: { csrfToken: csrf } })).status, 302);
      remember(e);
      // Sign-out too.
      const so = await a("/signout", { form: { csrfToken: await a.csrf() } });
      assert.equal(so.status, 302);
      await waitForLog(srv, format === "json" ? /"event":"signout"/ : /signOut user=/);
      assertNoSecrets(srv.stderr(), secrets, true);
      if (format === "json") jsonLines(srv.stderr());
    } finally {
      await srv.stop();
      await oidc.close();
    }
  });
}
