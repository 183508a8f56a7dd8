// db-sessions.test.mjs — the database session strategy over HTTP against real
// `authc serve` processes on SQLite, PostgreSQL and Redis: sign-in through an
// OIDC issuer, /session, extension per updateAge, expiry, sign-out, update();
// account linking; two servers on one database; the same answers as
// @auth/core + @auth/pg-adapter on one PostgreSQL; PostgreSQL/Redis going
// away and coming back; kill -9 of authc during OIDC sign-ins (a local mock
// issuer, lib/db-servers.mjs), each acknowledged session checked in the
// database afterwards.
//
// Rows are seeded through authc's own adapter (build/tests/adapters/
// authc_adapter_cli) and every "in the database" check reads the database
// directly (sqlite3 shell, psql, redis-cli), not through authc.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CookieJar, SECRET, client, cookieMap, isDeletion, setCookies, startServer, withServer, assertRedirect } from "./lib/server.mjs";
import {
  oidcSignIn, openAdapterCli, seedSession, sqliteQuery, startMockOidc, startPostgres, startRedis,
} from "./lib/db-servers.mjs";

const SESSION = "authjs.session-token";
const MAX_AGE = 3600; // s; small so "due for extension" is easy to seed
const UPDATE_AGE = 60;
const SLACK = 5000; // ms of clock/latency tolerance

const sq = (s) => `'${String(s).replace(/'/g, "''")}'`;

// ------------------------------------------------------------------ backends
// Each: {name, url, session(token) → {userId, expires(ms)} | null (read
// directly from the database), stop(), start(), close()}.

async function sqliteBackend() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-sqlite-"));
  const file = path.join(dir, "authc.db");
  return {
    name: "sqlite", url: `sqlite:${file}`, file,
    async session(token) {
      const rows = await sqliteQuery(file, `SELECT "userId", "expires" FROM "session" WHERE "sessionToken" = ${sq(token)}`);
      return rows.length ? { userId: String(rows[0].userId), expires: Number(rows[0].expires) } : null;
    },
    async close() { rmSync(dir, { recursive: true, force: true }); },
  };
}

async function postgresBackend(_opts) {
  const pg = await startPostgres();
  return {
    name: "postgres", url: pg.url, pg,
    async session(token) {
      const rows = await pg.query(`SELECT "userId", round(extract(epoch FROM expires) * 1000)::bigint FROM sessions WHERE "sessionToken" = ${sq(token)}`);
      return rows.length ? { userId: rows[0][0], expires: Number(rows[0][1]) } : null;
    },
    stop: () => pg.stop(), start: () => pg.start(),
    close: () => pg.close(),
  };
}

async function redisBackend({ persist = false } = {}) {
  const rd = await startRedis("e2e:", { persist });
  return {
    name: "redis", url: rd.url, rd,
    async session(token) {
      const v = await rd.cmd("GET", `${rd.prefix}user:session:${token}`);
      if (!v) return null;
      const j = JSON.parse(v);
      return { userId: String(j.userId), expires: Date.parse(j.expires) };
    },
    // When the key leaves Redis by itself (ms since the epoch; ttl_grace
    // of the URL, default 1 day, after the session's expiry).
    async dropsAt(token) {
      const t = Number(await rd.cmd("PEXPIRETIME", `${rd.prefix}user:session:${token}`));
      return t > 0 ? t : null;
    },
    stop: () => rd.stop(), start: () => rd.start(),
    close: () => rd.close(),
  };
}

const BACKENDS = { sqlite: sqliteBackend, postgres: postgresBackend, redis: redisBackend };

// One PostgreSQL cluster and one Redis for the whole file (initdb is the
// slow part); a fresh SQLite file per suite. Redis keeps its data across the
// outage test's restart only with an append-only file, hence persist.
const shared = new Map();
function backend(name) {
  if (name === "sqlite") return sqliteBackend();
  if (!shared.has(name)) shared.set(name, BACKENDS[name]({ persist: true }));
  return shared.get(name);
}
const release = async (db) => { if (db?.name === "sqlite") await db.close(); };

let idp;
before(async () => { idp = await startMockOidc(); });
after(async () => {
  await idp?.close();
  for (const p of shared.values()) await (await p.catch(() => null))?.close();
});

function serverOpts(db, env = {}) {
  return {
    usersFile: false,
    env: { AUTHC_DATABASE: db.url, AUTHC_SESSION_MAX_AGE: String(MAX_AGE), AUTHC_SESSION_UPDATE_AGE: String(UPDATE_AGE), ...idp.env(), ...env },
  };
}

// A client whose jar holds just this session token.
function withToken(srv, token) {
  const jar = new CookieJar();
  jar.set(SESSION, token);
  return client(srv, jar);
}

function near(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) <= SLACK, `${what}: ${new Date(actual).toISOString()} is not within ${SLACK} ms of ${new Date(expected).toISOString()}`);
}

// The user part of a /session body. The exact JSON (a NULL column is
// "image":null, as Auth.js's SQL adapters give) is compared with Auth.js's
// own answer in the suite "authc and Auth.js … answer alike".
function sameSessionUser(body, u) {
  assert.equal(body?.user?.name, u.name);
  assert.equal(body.user.email, u.email);
  assert.equal(body.user.image ?? null, null);
  assert.deepEqual(Object.keys(body).sort(), ["expires", "user"]);
}

async function getSession(c) {
  const r = await c("/session");
  assert.equal(r.status, 200, `GET /session status (${await r.text()})`);
  return { r, body: await r.json() };
}

// ------------------------------------------------------------------ 1 + 2: strategy per backend

for (const name of Object.keys(BACKENDS)) {
  describe(`database sessions on ${name}`, () => {
    let db, cli;
    before(async () => {
      db = await backend(name);
      cli = await openAdapterCli(db.url);
    });
    after(async () => {
      await cli?.close();
      await release(db);
    });

    test("OIDC sign-in writes user, account and session; /session shows the user and re-sends the cookie", () =>
      withServer(serverOpts(db), async (srv) => {
        const c = client(srv);
        const sub = `${name}-signin-${Date.now()}`;
        const t0 = Date.now();
        const cb = await oidcSignIn(c, { sub });
        assert.equal(cb.status, 302, await cb.text());
        assert.doesNotMatch(cb.headers.get("location"), /error=/);
        const token = c.jar.get(SESSION);
        assert.match(token ?? "", /^[0-9a-f-]{36}$/, "session cookie is a database token, not a JWT");

        const row = await db.session(token);
        assert.ok(row, "session row is in the database");
        near(row.expires, t0 + MAX_AGE * 1000, "stored expiry = now + maxAge");
        if (db.dropsAt) near(await db.dropsAt(token), row.expires + 86400e3, "Redis key expires a day after the session");
        const su = await cli.call("get_session_and_user", { sessionToken: token });
        assert.equal(su.user.email, `${sub}@example.com`);
        assert.equal(String(su.user.id), row.userId);
        const acct = await cli.call("get_account", { providerAccountId: sub, provider: "mock" });
        assert.equal(acct?.type, "oidc");
        assert.equal(String(acct.userId), row.userId);
        assert.match(acct.access_token ?? "", /^at-/, "OAuth tokens stored on the account");
        assert.ok(acct.id_token, "id_token stored");

        const { r, body } = await getSession(c);
        sameSessionUser(body, { name: `User ${sub}`, email: `${sub}@example.com` });
        assert.equal(body.expires, new Date(row.expires).toISOString());
        const ck = cookieMap(r).get(SESSION);
        assert.ok(ck && !isDeletion(ck), "session cookie re-sent");
        assert.equal(ck.value, token);
        assert.equal(ck.attrs.httponly, true);
        near(Date.parse(ck.attrs.expires), Date.now() + MAX_AGE * 1000, "re-sent cookie expiry");
        assert.equal((await db.session(token)).expires, row.expires, "a fresh session is not rewritten");

        // The same person again: same user, a second session row.
        const c2 = client(srv);
        assert.equal((await oidcSignIn(c2, { sub })).status, 302);
        const t2 = c2.jar.get(SESSION);
        assert.notEqual(t2, token);
        assert.equal((await db.session(t2))?.userId, row.userId, "second sign-in reuses the user");
      }));

    test("extension per updateAge: a due session is extended in the database, a fresh one is not", () =>
      withServer(serverOpts(db), async (srv) => {
        // Due: stored expiry - maxAge + updateAge is 60 s in the past.
        const due = await seedSession(cli, { expires: Date.now() + (MAX_AGE - 2 * UPDATE_AGE) * 1000 });
        // Not due: extended 30 s ago (updateAge is 60 s).
        const fresh = await seedSession(cli, { expires: Date.now() + (MAX_AGE - UPDATE_AGE / 2) * 1000 });
        assert.equal((await db.session(due.token)).expires, due.expires, "seeded row as written");

        const { r, body } = await getSession(withToken(srv, due.token));
        assert.equal(body.user.email, due.user.email);
        assert.equal(body.expires, new Date(due.expires).toISOString(), "body shows the expiry read (as Auth.js)");
        const after1 = await db.session(due.token);
        near(after1.expires, Date.now() + MAX_AGE * 1000, "due session extended to now + maxAge");
        if (db.dropsAt) near(await db.dropsAt(due.token), after1.expires + 86400e3, "Redis TTL follows the extension");
        assert.ok(after1.expires > due.expires + UPDATE_AGE * 1000);
        near(Date.parse(cookieMap(r).get(SESSION).attrs.expires), Date.now() + MAX_AGE * 1000, "cookie expiry");

        const { body: b2 } = await getSession(withToken(srv, fresh.token));
        assert.equal(b2.user.email, fresh.user.email);
        assert.equal((await db.session(fresh.token)).expires, fresh.expires, "fresh session not rewritten");
      }));

    test("an expired session is deleted when met: null, cookie cleared, row gone", () =>
      withServer(serverOpts(db), async (srv) => {
        const old = await seedSession(cli, { expires: Date.now() - 60e3 });
        assert.ok(await db.session(old.token), "expired row present before the request");
        const r = await withToken(srv, old.token)("/session");
        assert.equal(r.status, 200);
        assert.equal(await r.text(), "null");
        const ck = cookieMap(r).get(SESSION);
        assert.ok(ck && isDeletion(ck), "session cookie cleared");
        assert.equal(await db.session(old.token), null, "expired row deleted");
        assert.ok(await cli.call("get_user", { id: old.user.id }), "the user stays");

        const unknown = await withToken(srv, "00000000-0000-4000-8000-000000000000")("/session");
        assert.equal(await unknown.text(), "null");
        assert.ok(isDeletion(cookieMap(unknown).get(SESSION)), "unknown token cleared too");
      }));

    test("sign-out deletes the row (CSRF required) and ends the session", () =>
      withServer(serverOpts(db), async (srv) => {
        const s = await seedSession(cli);
        const c = withToken(srv, s.token);
        assert.equal((await getSession(c)).body.user.email, s.user.email);

        await c("/csrf");
        const bad = await c("/signout", { form: { csrfToken: "0".repeat(64) } });
        assert.equal(bad.status, 302);
        assert.match(bad.headers.get("location"), /error=MissingCSRF/);
        assert.ok(await db.session(s.token), "no CSRF → row kept");

        const out = await c("/signout", { form: { csrfToken: await c.csrf() } });
        assert.equal(out.status, 302);
        assert.ok(isDeletion(cookieMap(out).get(SESSION)), "sign-out clears the cookie");
        assert.equal(await db.session(s.token), null, "sign-out deleted the row");
        assert.equal(await (await withToken(srv, s.token)("/session")).text(), "null", "old token no longer works");
        assert.ok(await cli.call("get_user", { id: s.user.id }), "the user stays");
      }));

    test("POST /session (update): 400 without CSRF and nothing written; with it the session is read and extended", () =>
      withServer(serverOpts(db), async (srv) => {
        const s = await seedSession(cli, { expires: Date.now() + (MAX_AGE - 2 * UPDATE_AGE) * 1000 });
        const c = withToken(srv, s.token);
        const no = await c("/session", { json: { data: { name: "Mallory" } } });
        assert.equal(no.status, 400);
        assert.equal(await no.text(), "null");
        assert.equal((await db.session(s.token)).expires, s.expires, "rejected update wrote nothing");

        const ok = await c("/session", { json: { csrfToken: await c.csrf(), data: { name: "Mallory" } } });
        assert.equal(ok.status, 200);
        const body = await ok.json();
        sameSessionUser(body, s.user);
        assert.equal(cookieMap(ok).get(SESSION)?.value, s.token, "cookie re-issued");
        near((await db.session(s.token)).expires, Date.now() + MAX_AGE * 1000, "update() extended the due session");
        // Without a session callback, Auth.js ignores `data` for the user.
        assert.equal((await cli.call("get_user", { id: s.user.id })).name, s.user.name);
      }));

    test("account linking on OIDC sign-in: OAuthAccountNotLinked, allowDangerousEmailAccountLinking, link while signed in", async () => {
      const sub = `${name}-link-${Date.now()}`;
      const owner = await seedSession(cli, { email: `${sub}@example.com`, name: "Owner" });
      await withServer(serverOpts(db), async (srv) => {
        // Same e-mail, unknown account, not signed in → refused, nothing written.
        const c = client(srv);
        const r = await oidcSignIn(c, { sub });
        assertRedirect(r, srv.url("/signin?error=OAuthAccountNotLinked"));
        assert.equal(c.jar.get(SESSION), undefined, "no session");
        assert.equal(await cli.call("get_account", { providerAccountId: sub, provider: "mock" }), null, "no account linked");

        // Signed in as the owner, a new account is linked to them; the session stays.
        const other = `${sub}-second`;
        const co = withToken(srv, owner.token);
        const r2 = await oidcSignIn(co, { sub: other });
        assert.equal(r2.status, 302);
        assert.doesNotMatch(r2.headers.get("location"), /error=/);
        assert.equal(co.jar.get(SESSION), owner.token, "same session token");
        assert.equal((await cli.call("get_account", { providerAccountId: other, provider: "mock" }))?.userId, owner.user.id);
        assert.equal(await cli.call("get_user_by_email", { email: `${other}@example.com` }), null, "no new user");

        // That account, while signed in as someone else → OAuthAccountNotLinked.
        const stranger = await seedSession(cli);
        const cs = withToken(srv, stranger.token);
        const r3 = await oidcSignIn(cs, { sub: other });
        assert.equal(r3.headers.get("location"), srv.url("/signin?error=OAuthAccountNotLinked"));
        assert.equal(cs.jar.get(SESSION), stranger.token);
        // Not signed in, the known account signs in as its owner.
        const cn = client(srv);
        assert.equal((await oidcSignIn(cn, { sub: other })).status, 302);
        assert.equal((await db.session(cn.jar.get(SESSION)))?.userId, String(owner.user.id));
      });
      await withServer(serverOpts(db, { AUTHC_MOCK_ALLOW_DANGEROUS_EMAIL_ACCOUNT_LINKING: "true" }), async (srv) => {
        const c = client(srv);
        const r = await oidcSignIn(c, { sub });
        assert.equal(r.status, 302);
        assert.doesNotMatch(r.headers.get("location"), /error=/);
        const row = await db.session(c.jar.get(SESSION));
        assert.equal(row?.userId, String(owner.user.id), "signed in as the existing user");
        assert.equal((await cli.call("get_account", { providerAccountId: sub, provider: "mock" }))?.userId, owner.user.id);
        assert.equal((await cli.call("get_user", { id: owner.user.id })).name, "Owner", "existing user kept");
      });
    });

    test("two authc servers on one database share sessions; sign-out on one ends it on both", async () => {
      const a = await startServer(serverOpts(db));
      let b;
      try {
        b = await startServer(serverOpts(db));
        const sub = `${name}-shared-${Date.now()}`;
        const ca = client(a);
        assert.equal((await oidcSignIn(ca, { sub })).status, 302);
        const token = ca.jar.get(SESSION);
        const cb = withToken(b, token);
        assert.equal((await getSession(cb)).body.user.email, `${sub}@example.com`, "session made on A is valid on B");

        // And the other way round, with a session signed in on B.
        const cb2 = client(b);
        assert.equal((await oidcSignIn(cb2, { sub })).status, 302);
        const token2 = cb2.jar.get(SESSION);
        assert.equal((await getSession(withToken(a, token2))).body.user.email, `${sub}@example.com`, "B's session valid on A");

        const out = await cb("/signout", { form: { csrfToken: await cb.csrf() } });
        assert.equal(out.status, 302);
        assert.equal(await db.session(token), null, "row deleted by B");
        assert.equal(await (await withToken(a, token)("/session")).text(), "null", "sign-out on B ended it on A");
        assert.equal((await getSession(withToken(a, token2))).body.user.email, `${sub}@example.com`, "the other session lives");

        // Concurrent sign-ins on both at once (SQLite: two processes writing
        // one file): all succeed, each valid on the other server.
        const many = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
          const [on, other] = i % 2 ? [a, b] : [b, a];
          const c = client(on);
          const s = `${name}-many-${Date.now()}-${i}`;
          const r = await oidcSignIn(c, { sub: s });
          assert.equal(r.status, 302, `sign-in ${i}: ${r.headers.get("location")}`);
          assert.doesNotMatch(r.headers.get("location"), /error=/, `sign-in ${i}`);
          return { other, token: c.jar.get(SESSION), email: `${s}@example.com` };
        }));
        for (const m of many)
          assert.equal((await getSession(withToken(m.other, m.token))).body?.user?.email, m.email);
      } finally {
        const sa = await a.stop();
        const sb = b ? await b.stop() : { code: 0 };
        assert.equal(sa.code, 0, `server A exit: ${a.stderr()}`);
        assert.equal(sb.code, 0, `server B exit: ${b?.stderr()}`);
      }
    });
  });
}

// ------------------------------------------------------------------ 1b: same answers as Auth.js

// @auth/core 0.41.3 + @auth/pg-adapter on the same PostgreSQL, fed twin
// sessions (same user, same expiry, different tokens): /session bodies,
// session cookies and what ends up in the database must be the same.
describe("authc and Auth.js (@auth/pg-adapter) on one PostgreSQL answer alike", () => {
  let db, cli, pool, authjs;
  before(async () => {
    db = await backend("postgres");
    cli = await openAdapterCli(db.url);
    const { Auth } = await import("@auth/core");
    const PostgresAdapter = (await import("@auth/pg-adapter")).default;
    const pg = (await import("pg")).default;
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const config = {
      secret: SECRET, trustHost: true, basePath: "/auth", adapter: PostgresAdapter(pool),
      session: { maxAge: MAX_AGE, updateAge: UPDATE_AGE },
      providers: [{ id: "mock", name: "Mock", type: "oidc", issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }],
      logger: { error: () => {}, warn: () => {}, debug: () => {} },
    };
    const origin = "http://127.0.0.1:3000";
    authjs = { url: (p = "") => origin + "/auth" + p, fetch: (url, init) => Auth(new Request(url, init), config) };
  });
  after(async () => {
    await pool?.end();
    await cli?.close();
  });

  // Twin sessions of one user; returns [forAuthjs, forAuthc] tokens.
  async function twins(expires) {
    const s = await seedSession(cli, { expires });
    const t2 = `${s.token.slice(0, -4)}beef`;
    await cli.call("create_session", { session: { sessionToken: t2, userId: s.user.id, expires } });
    return [s.token, t2];
  }
  const sessionCookies = (r) => setCookies(r).filter((c) => c.name === SESSION)
    .map((c) => ({ value: c.value ? "<token>" : "", attrs: { ...c.attrs, expires: c.attrs.expires ? "<date>" : undefined }, order: c.order }));

  for (const [what, offset] of [["fresh", 20 * 60e3], ["due for extension", (MAX_AGE - 2 * UPDATE_AGE) * 1000], ["expired", -60e3]]) {
    test(`GET /session, ${what} session: same body, same session cookie, same row afterwards`, () =>
      withServer(serverOpts(db), async (srv) => {
        const expires = Date.now() + offset;
        const [tj, tc] = await twins(expires);
        const rj = await withToken(authjs, tj)("/session");
        const rc = await withToken(srv, tc)("/session");
        assert.equal(rc.status, rj.status);
        assert.equal(await rc.text(), await rj.text(), "body");
        assert.deepEqual(sessionCookies(rc), sessionCookies(rj), "session cookie");
        const [dj, dc] = [await db.session(tj), await db.session(tc)];
        assert.equal(dc === null, dj === null, "row kept/deleted alike");
        if (dj) near(dc.expires, dj.expires, "stored expiry afterwards");
      }));
  }

  test("POST /signout: both delete the row and clear the cookie alike", () =>
    withServer(serverOpts(db), async (srv) => {
      const [tj, tc] = await twins(Date.now() + 20 * 60e3);
      const cj = withToken(authjs, tj), cc = withToken(srv, tc);
      const oj = await cj("/signout", { form: { csrfToken: await cj.csrf() } });
      const oc = await cc("/signout", { form: { csrfToken: await cc.csrf() } });
      assert.equal(oc.status, oj.status);
      assert.deepEqual(sessionCookies(oc), sessionCookies(oj), "session cookie");
      assert.equal(await db.session(tj), null);
      assert.equal(await db.session(tc), null);
    }));
});

// ------------------------------------------------------------------ 3: database outage

for (const name of ["postgres", "redis"]) {
  describe(`${name} goes away and comes back`, () => {
    let db, cli;
    before(async () => {
      db = await backend(name);
      cli = await openAdapterCli(db.url);
    });
    after(async () => {
      await cli?.close().catch(() => {});
    });

    test("no session while it is down (200 null, cookie kept, log names the database), recovery by itself", () =>
      withServer(serverOpts(db), async (srv) => {
        const s = await seedSession(cli);
        const c = withToken(srv, s.token);
        assert.equal((await getSession(c)).body.user.email, s.user.email);

        await db.stop();
        const logBefore = srv.stderr().length;
        const t0 = Date.now();
        const r = await c("/session");
        assert.ok(Date.now() - t0 < 8000, "answered in time");
        assert.equal(r.status, 200);
        assert.equal(await r.text(), "null", "no session granted while the database is down");
        assert.equal(cookieMap(r).get(SESSION), undefined, "session cookie neither cleared nor re-sent");
        const log = srv.stderr().slice(logBefore);
        const port = String(name === "postgres" ? db.pg.port : db.rd.port);
        const line = log.split("\n").find((l) => /error/i.test(l) && l.includes(port));
        assert.ok(line, `an error line naming the database (port ${port}):\n${log}`);
        assert.match(log, new RegExp(name, "i"));
        assert.ok(!log.includes(s.token), "no session token in the log");

        // A sign-in during the outage must not grant a session.
        const ci = client(srv);
        const cbk = await oidcSignIn(ci, { sub: `${name}-outage` });
        assert.equal(cbk.status, 302);
        assert.match(cbk.headers.get("location"), /error=/, "sign-in fails with an error page");
        assert.equal(ci.jar.get(SESSION), undefined, "no session cookie granted");

        await db.start();
        const pid = srv.pid;
        let body = null;
        for (let i = 0; i < 100 && !body; i++) {
          body = await (await c("/session")).json();
          if (!body) await new Promise((res) => setTimeout(res, 100));
        }
        assert.equal(body?.user?.email, s.user.email, "the same server serves the session again");
        assert.equal(srv.pid, pid);
        const c2 = client(srv);
        assert.equal((await oidcSignIn(c2, { sub: `${name}-after` })).status, 302);
        assert.ok(await db.session(c2.jar.get(SESSION)), "sign-in writes again after recovery");
      }));
  });
}

// ------------------------------------------------------------------ 3b: a hung database

// SIGSTOP on the database server (and, for PostgreSQL, its backends): the
// connection stays open but nothing answers. Short client deadlines in the
// URL keep the test quick.
async function freeze(db, sig) {
  const pid = db.name === "postgres" ? db.pg.pid() : db.rd.pid();
  let kids = [];
  if (db.name === "postgres") {
    const { execFileSync } = await import("node:child_process");
    try { kids = execFileSync("pgrep", ["-P", String(pid)]).toString().trim().split("\n").map(Number); } catch { /* none */ }
  }
  for (const p of sig === "SIGSTOP" ? [...kids, pid] : [pid, ...kids]) process.kill(p, sig);
}

for (const [name, params] of [["postgres", "statement_timeout=1000&connect_timeout=1"], ["redis", "timeout=1000&connect_timeout=1000"]]) {
  describe(`${name} hangs (SIGSTOP) and resumes`, () => {
    let db, cli;
    before(async () => {
      db = await backend(name);
      cli = await openAdapterCli(db.url);
    });
    after(async () => { await cli?.close().catch(() => {}); });

    test("requests that need it answer null within the client deadline, other routes are unaffected, it recovers", async () => {
      const url = db.url + (db.url.includes("?") ? "&" : "?") + params;
      await withServer(serverOpts({ url }), async (srv) => {
        const s = await seedSession(cli);
        const c = withToken(srv, s.token);
        assert.equal((await getSession(c)).body.user.email, s.user.email);
        await freeze(db, "SIGSTOP");
        let answers;
        try {
          const t0 = Date.now();
          const pending = Array.from({ length: 4 }, () => c("/session").then(async (r) => ({ ms: Date.now() - t0, status: r.status, text: await r.text(), ck: cookieMap(r).get(SESSION) })));
          const tc = Date.now();
          const csrf = await fetch(srv.url("/csrf"), { signal: AbortSignal.timeout(3000) });
          assert.equal(csrf.status, 200, "/csrf does not wait for the database");
          assert.ok(Date.now() - tc < 1500, `/csrf answered in ${Date.now() - tc} ms`);
          answers = await Promise.all(pending);
        } finally {
          await freeze(db, "SIGCONT");
        }
        for (const a of answers) {
          assert.equal(a.status, 200);
          assert.equal(a.text, "null", "no session while the database hangs");
          assert.equal(a.ck, undefined, "cookie kept");
          assert.ok(a.ms < 8000, `answered after ${a.ms} ms`);
        }
        let body = null;
        for (let i = 0; i < 50 && !body; i++) {
          body = await (await c("/session")).json();
          if (!body) await new Promise((res) => setTimeout(res, 100));
        }
        assert.equal(body?.user?.email, s.user.email, "the session is served again after the database resumes");
      });
    });
  });
}

// ------------------------------------------------------------------ 4: kill -9 during sign-ins

for (const name of ["sqlite", "postgres"]) {
  describe(`kill -9 authc during sign-ins (${name})`, () => {
    let db;
    before(async () => { db = await backend(name); });
    after(async () => { await release(db); });

    test("every acknowledged session is in the database and valid after a restart", async () => {
      const srv = await startServer(serverOpts(db));
      const acked = []; // {token, email}
      let inflight = 0, inflightAtKill = -1, killed = false, failures = 0;
      const ACK_BEFORE_KILL = 24;
      let killNow;
      const killSignal = new Promise((r) => { killNow = r; });
      const worker = async (w) => {
        for (let i = 0; !killed; i++) {
          const c = client(srv);
          const sub = `${name}-k9-${w}-${i}`;
          inflight++;
          try {
            const r = await oidcSignIn(c, { sub });
            const token = c.jar.get(SESSION);
            if (r.status === 302 && token) {
              acked.push({ token, email: `${sub}@example.com` });
              if (acked.length >= ACK_BEFORE_KILL) killNow();
            }
          } catch {
            failures++; // connection reset/refused once authc is gone
          } finally {
            inflight--;
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      await killSignal;
      inflightAtKill = inflight;
      const ackedAtKill = acked.length;
      process.kill(srv.pid, "SIGKILL");
      killed = true;
      await Promise.all(workers);
      const st = await srv.stop();
      assert.equal(st.signal, "SIGKILL");
      assert.ok(inflightAtKill > 0, "sign-ins were in flight when authc was killed");
      // Responses that arrived after the kill were sent before it: they count.
      assert.ok(acked.length >= ackedAtKill);

      for (const a of acked) {
        const row = await db.session(a.token);
        assert.ok(row, `acknowledged session ${acked.indexOf(a)} of ${acked.length} is in the database`);
      }

      // A new server on the same database serves every acknowledged session.
      await withServer(serverOpts(db), async (srv2) => {
        for (const a of acked) {
          const { body } = await getSession(withToken(srv2, a.token));
          assert.equal(body?.user?.email, a.email);
        }
      });
      console.log(`# ${name}: ${acked.length} acknowledged sign-ins (${ackedAtKill} when killed, ${inflightAtKill} in flight), all present; ${failures} cut off`);
    });
  });
}
