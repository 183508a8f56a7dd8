// harden.test.mjs — issue 13 through the real server: allowed hosts at
// start-up, credentials regulation with `authc bans`, the CPU pool's short
// queue, page security headers.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ALICE, client, rawRequest, runAuthc, withServer } from "./lib/server.mjs";

describe("hardening", () => {
  test("trust-host with email sign-in refuses to start without AUTH_URL or AUTHC_ALLOWED_HOSTS", () => {
    const r = runAuthc(["check"], { env: { AUTHC_EMAIL: "log", AUTHC_DATABASE: "memory:", AUTHC_SESSION_STRATEGY: "jwt", AUTHC_ALLOWED_HOSTS: undefined } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /AUTH_URL/);
    assert.match(r.stderr, /AUTHC_ALLOWED_HOSTS/);
    const ok = runAuthc(["check"], { env: { AUTHC_EMAIL: "log", AUTHC_DATABASE: "memory:", AUTHC_SESSION_STRATEGY: "jwt",
      AUTHC_ALLOWED_HOSTS: "localhost:3000" } });
    assert.equal(ok.status, 0, ok.stderr);
  });

  test("a host outside AUTHC_ALLOWED_HOSTS is a 400 with UntrustedHost in the log", () =>
    withServer({ env: { AUTHC_ALLOWED_HOSTS: "127.0.0.1" } }, async (srv) => {
      const bad = await fetch(srv.url("/providers"), { headers: { "x-forwarded-host": "evil.example" } });
      assert.equal(bad.status, 400, "a forwarded host from a trusted proxy is held to the list too");
      const raw = await rawRequest(srv.port, "GET /auth/signin HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
      assert.match(raw, /^HTTP\/1\.1 400/);
      await new Promise((r) => setTimeout(r, 100));
      assert.match(srv.stderr() + srv.stdout(), /UntrustedHost/);
      const page = await fetch(srv.url("/signin"));
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("x-frame-options"), "DENY");
      assert.match(page.headers.get("content-security-policy"), /frame-ancestors 'none'/);
      assert.match(page.headers.get("cache-control"), /no-store/);
    }));

  test("regulation bans a user name; `authc bans list` shows it and `authc bans delete` lifts it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "authc-bans-"));
    const db = `sqlite:${path.join(dir, "store.db")}`;
    try {
      const m = runAuthc(["migrate"], { usersFile: false, env: { AUTHC_DATABASE: db } });
      assert.equal(m.status, 0, m.stderr);
      const env = { AUTHC_DATABASE: db, AUTHC_SESSION_STRATEGY: "jwt", AUTHC_REGULATION_MAX_FAILURES: "3" };
      await withServer({ env }, async (srv) => {
        const c = client(srv);
        for (let i = 0; i < 3; i++) {
          const r = await c.signIn(ALICE.username, "wrong");
          assert.match(r.headers.get("location"), /error=CredentialsSignin/);
        }
        const banned = await c.signIn();
        assert.match(banned.headers.get("location"), /error=CredentialsSignin&code=credentials/);
        const l = runAuthc(["bans", "list"], { usersFile: false, env: { AUTHC_DATABASE: db } });
        assert.equal(l.status, 0, l.stderr);
        assert.match(l.stdout, /^ban:u:alice\tuntil \d{4}-/m);
        const d = runAuthc(["bans", "delete", "ban:u:alice"], { usersFile: false, env: { AUTHC_DATABASE: db } });
        assert.equal(d.status, 0, d.stderr);
        const again = await client(srv).signIn();
        assert.doesNotMatch(again.headers.get("location"), /error=/);
        const none = runAuthc(["bans", "list"], { usersFile: false, env: { AUTHC_DATABASE: db } });
        assert.match(none.stdout, /no bans/);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("argon2 runs on a small pool whose short queue answers 503 when full", () =>
    withServer({ env: { AUTHC_REGULATION_MAX_FAILURES: "0" } }, async (srv) => {
      const c = client(srv);
      const csrfToken = await c.csrf();
      const body = new URLSearchParams({ username: ALICE.username, password: ALICE.password, csrfToken }).toString();
      const one = () => fetch(srv.url("/callback/credentials"), {
        method: "POST", redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: c.jar.header() }, body,
      }).then((r) => r.status, () => 0);
      const statuses = await Promise.all(Array.from({ length: 150 }, one));
      assert.ok(statuses.includes(503), `some refused with 503: ${[...new Set(statuses)]}`);
      assert.ok(statuses.every((s) => [302, 429, 503].includes(s)), `only 302/429/503: ${[...new Set(statuses)]}`);
      assert.ok(await srv.alive());
    }));
});
