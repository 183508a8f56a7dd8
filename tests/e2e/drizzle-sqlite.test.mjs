// drizzle-sqlite.test.mjs — authc and Auth.js's Drizzle SQLite adapter
// (@auth/drizzle-adapter + drizzle-orm + @libsql/client) on one SQLite file.
//
// `authc migrate` creates the file; the Drizzle adapter's own table
// definitions must match it; users/accounts/sessions/verification tokens/
// authenticators written by either side read back exactly on the other
// (authc side: tests/adapters/cli_main.c through lib/db-servers.mjs); a
// session created by Drizzle works on a running `authc serve`, and the
// other way round.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CookieJar, SECRET, client, cookieMap, isDeletion, repoRoot, runAuthc, startServer } from "./lib/server.mjs";
import { oidcSignIn, openAdapterCli, sqliteQuery, startMockOidc } from "./lib/db-servers.mjs";
import { authcWritesAuthjsReads, ms, sameAccount, sameUser, stamp } from "./lib/adapter-models.mjs";

const SESSION = "authjs.session-token";

async function need(pkg) {
  try {
    return await import(pkg);
  } catch (e) {
    throw new Error(`npm package ${pkg} is missing (npm install at the repo root): ${e.message}`);
  }
}

const { createClient } = await need("@libsql/client");
const { drizzle } = await need("drizzle-orm/libsql");
const { getTableConfig } = await need("drizzle-orm/sqlite-core");
const { DrizzleAdapter } = await need("@auth/drizzle-adapter");
// The adapter's default tables (not exported by the package entry point).
const adapterDir = path.dirname(createRequire(path.join(repoRoot, "package.json")).resolve("@auth/drizzle-adapter"));
const { defineTables } = await import(pathToFileURL(path.join(adapterDir, "lib/sqlite.js")).href);


let dir, file, libsql, js, cli, srv, idp;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-drizzle-"));
  file = path.join(dir, "shared.db");
  const m = runAuthc(["migrate"], { usersFile: false, env: { AUTHC_DATABASE: `sqlite:${file}` } });
  assert.equal(m.status, 0, `authc migrate: ${m.stderr}`);
  libsql = createClient({ url: pathToFileURL(file).href });
  js = DrizzleAdapter(drizzle(libsql));
  cli = await openAdapterCli(`sqlite:${file}`);
  idp = await startMockOidc();
  srv = await startServer({ usersFile: false, env: { AUTHC_DATABASE: `sqlite:${file}`, ...idp.env() } });
});

after(async () => {
  let st;
  if (srv) st = await srv.stop();
  await cli?.close();
  libsql?.close();
  await idp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (st) assert.equal(st.code, 0, `authc serve exit: ${srv.stderr()}`);
});

function sameAuthenticator(c, d, what) {
  assert.ok(c && d, `${what}: missing`);
  for (const k of ["credentialID", "userId", "providerAccountId", "credentialPublicKey", "counter", "credentialDeviceType", "credentialBackedUp"])
    assert.equal(d[k], c[k], `${what}: ${k}`);
  assert.equal(d.transports ?? null, c.transports, `${what}: transports`);
}

const authenticator = (userId, n = 0) => ({
  credentialID: Buffer.from(randomUUID()).toString("base64"),
  userId, providerAccountId: `pa-${n}`,
  credentialPublicKey: Buffer.from("cose-key-" + randomUUID()).toString("base64"),
  counter: 7 + n, credentialDeviceType: n % 2 ? "singleDevice" : "multiDevice",
  credentialBackedUp: n % 2 === 0, transports: n % 2 ? null : "internal,hybrid",
});

// GET /auth/session on @auth/core 0.41.3 with the Drizzle adapter, in-process.
async function authjs(token) {
  const { Auth } = await need("@auth/core");
  const config = {
    secret: SECRET, trustHost: true, basePath: "/auth", adapter: js,
    providers: [{ id: "mock", name: "Mock", type: "oidc", issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }],
    logger: { error: () => {}, warn: () => {}, debug: () => {} },
  };
  return Auth(new Request("http://127.0.0.1:3000/auth/session", { headers: { cookie: `${SESSION}=${token}` } }), config);
}

function withToken(token) {
  const jar = new CookieJar();
  jar.set(SESSION, token);
  return client(srv, jar);
}

describe("authc migrate ↔ the Drizzle adapter's schema", () => {
  test("every table and column the Drizzle adapter defines exists with the same type, NOT NULL, key and unique index", async () => {
    const tables = defineTables();
    for (const t of Object.values(tables)) {
      const cfg = getTableConfig(t);
      const cols = await sqliteQuery(file, `PRAGMA table_info("${cfg.name}")`);
      assert.ok(cols.length, `table ${cfg.name} exists`);
      assert.deepEqual(cols.map((c) => c.name).sort(), cfg.columns.map((c) => c.name).sort(), `${cfg.name}: columns`);
      for (const c of cfg.columns) {
        const got = cols.find((x) => x.name === c.name);
        assert.equal(got.type.toLowerCase(), c.getSQLType().toLowerCase(), `${cfg.name}.${c.name}: type`);
        assert.equal(Boolean(got.notnull) || Boolean(got.pk && c.primary), c.notNull, `${cfg.name}.${c.name}: NOT NULL`);
      }
      const pk = cols.filter((c) => c.pk).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      const wantPk = cfg.primaryKeys.length ? cfg.primaryKeys[0].columns.map((c) => c.name) : cfg.columns.filter((c) => c.primary).map((c) => c.name);
      assert.deepEqual(pk, wantPk, `${cfg.name}: primary key`);
      const uniques = cfg.columns.filter((c) => c.isUnique).map((c) => c.name);
      const idx = await sqliteQuery(file, `PRAGMA index_list("${cfg.name}")`);
      for (const u of uniques) {
        let found = false;
        for (const i of idx.filter((x) => x.unique)) {
          const ic = await sqliteQuery(file, `PRAGMA index_info("${i.name}")`);
          if (ic.length === 1 && ic[0].name === u) found = true;
        }
        assert.ok(found, `${cfg.name}.${u}: unique index`);
      }
      const fks = await sqliteQuery(file, `PRAGMA foreign_key_list("${cfg.name}")`);
      for (const fk of cfg.foreignKeys) {
        const ref = fk.reference();
        const got = fks.find((f) => f.from === ref.columns[0].name);
        assert.ok(got, `${cfg.name}.${ref.columns[0].name}: foreign key`);
        assert.equal(got.table, getTableConfig(ref.foreignTable).name);
        assert.equal(got.on_delete, (fk.onDelete ?? "no action").toUpperCase());
      }
    }
    const again = runAuthc(["migrate"], { usersFile: false, env: { AUTHC_DATABASE: `sqlite:${file}` } });
    assert.equal(again.status, 0, `second migrate: ${again.stderr}`);
  });
});

describe("authc writes, Drizzle reads", () => {
  test("user, account, session, verification token, authenticators", async () => {
    const { u, email, account } = await authcWritesAuthjsReads(cli, js);
    sameAccount(account, await js.getAccount(account.providerAccountId, "github"), "getAccount");

    const renamed = await cli.call("update_user", { user: { id: u.id, name: "Renamed", fields: 1 } });
    sameUser(renamed, await js.getUser(u.id), "getUser after update_user");

    const vt = { identifier: email, token: randomUUID().replace(/-/g, ""), expires: stamp(86400e3) };
    await cli.call("create_verification_token", { token: vt });
    const used = await js.useVerificationToken({ identifier: vt.identifier, token: vt.token });
    assert.deepEqual({ ...used, expires: ms(used.expires) }, vt);
    assert.equal(await cli.call("use_verification_token", { identifier: vt.identifier, token: vt.token }), null, "used once only");

    const a1 = authenticator(u.id, 0), a2 = authenticator(u.id, 1);
    sameAuthenticator(a1, await cli.call("create_authenticator", { authenticator: a1 }), "create_authenticator");
    await cli.call("create_authenticator", { authenticator: a2 });
    sameAuthenticator(a1, await js.getAuthenticator(a1.credentialID), "getAuthenticator");
    const list = await js.listAuthenticatorsByUserId(u.id);
    assert.equal(list.length, 2);
    sameAuthenticator(a2, list.find((x) => x.credentialID === a2.credentialID), "listAuthenticatorsByUserId");
    await js.updateAuthenticatorCounter(a1.credentialID, 99);
    assert.equal((await cli.call("get_authenticator", { credentialID: a1.credentialID })).counter, 99, "authc reads Drizzle's counter");
  });

  test("a sign-in on authc serve (OIDC) is read by Drizzle", async () => {
    const c = client(srv);
    const sub = `drizzle-${Date.now()}`;
    const r = await oidcSignIn(c, { sub });
    assert.equal(r.status, 302, await r.text());
    const token = c.jar.get(SESSION);
    assert.ok(token, "session cookie");
    const su = await js.getSessionAndUser(token);
    assert.ok(su, "Drizzle finds authc's session");
    assert.equal(su.user.email, `${sub}@example.com`);
    assert.ok(su.session.expires.getTime() > Date.now() + 29 * 86400e3);
    const acct = await js.getAccount(sub, "mock");
    assert.equal(acct?.type, "oidc");
    assert.equal(acct.userId, su.user.id);
    assert.match(acct.access_token, /^at-/);
    assert.equal((await js.getUserByAccount({ provider: "mock", providerAccountId: sub }))?.id, su.user.id);
  });
});

describe("Drizzle writes, authc reads", () => {
  test("user, account, session, verification token, authenticators", async () => {
    const email = `d-${randomUUID()}@example.com`;
    const du = await js.createUser({ id: "ignored", name: "D Writer", email, image: null, emailVerified: new Date(stamp()) });
    sameUser(await cli.call("get_user", { id: du.id }), du, "get_user");
    sameUser(await cli.call("get_user_by_email", { email }), du, "get_user_by_email");

    const account = {
      userId: du.id, type: "oidc", provider: "google", providerAccountId: String(10 ** 15 + Math.floor(Math.random() * 1e6)),
      access_token: "at", id_token: "eyJ.x.y", token_type: "bearer", scope: "openid email",
      expires_at: Math.floor(Date.now() / 1000) + 3599, refresh_token: null, session_state: null,
    };
    await js.linkAccount(account);
    sameAccount(await cli.call("get_account", { providerAccountId: account.providerAccountId, provider: "google" }), account, "get_account");
    sameUser(await cli.call("get_user_by_account", { provider: "google", providerAccountId: account.providerAccountId }), du, "get_user_by_account");

    const token = randomUUID(), expires = stamp(7 * 86400e3);
    await js.createSession({ sessionToken: token, userId: du.id, expires: new Date(expires) });
    const su = await cli.call("get_session_and_user", { sessionToken: token });
    assert.equal(su.session.expires, expires);
    assert.equal(su.session.userId, du.id);
    sameUser(su.user, du, "get_session_and_user.user");
    await js.updateSession({ sessionToken: token, expires: new Date(expires + 1000) });
    assert.equal((await cli.call("get_session_and_user", { sessionToken: token })).session.expires, expires + 1000);

    const upd = await js.updateUser({ id: du.id, name: "D Renamed", image: "https://example.com/d.png" });
    sameUser(await cli.call("get_user", { id: du.id }), upd, "get_user after updateUser");

    const vt = { identifier: email, token: randomUUID().replace(/-/g, ""), expires: new Date(stamp(3600e3)) };
    await js.createVerificationToken(vt);
    assert.deepEqual(await cli.call("use_verification_token", { identifier: email, token: vt.token }),
      { identifier: email, token: vt.token, expires: vt.expires.getTime() });
    assert.equal(await js.useVerificationToken({ identifier: email, token: vt.token }), null, "used once only");

    const a = authenticator(du.id, 2);
    await js.createAuthenticator(a);
    sameAuthenticator(await cli.call("get_authenticator", { credentialID: a.credentialID }), a, "get_authenticator");
    const list = await cli.call("list_authenticators_by_user_id", { userId: du.id });
    assert.equal(list.length, 1);
    sameAuthenticator(list[0], a, "list_authenticators_by_user_id");
    await cli.call("update_authenticator_counter", { credentialID: a.credentialID, counter: 1234 });
    assert.equal((await js.getAuthenticator(a.credentialID)).counter, 1234, "Drizzle reads authc's counter");

    // authc's delete_user cascades (foreign keys on) to what Drizzle wrote.
    await cli.call("delete_user", { id: du.id });
    assert.equal(await js.getUser(du.id), null);
    assert.equal(await js.getSessionAndUser(token), null, "session cascaded");
    assert.equal(await js.getAccount(account.providerAccountId, "google"), null, "account cascaded");
    assert.equal(await js.getAuthenticator(a.credentialID), null, "authenticator cascaded");
  });

  test("a session created by Drizzle works on authc's /auth/session; authc's sign-out deletes it for Drizzle", async () => {
    const du = await js.createUser({ name: "Session Person", email: `s-${randomUUID()}@example.com`, emailVerified: null, image: null });
    const token = randomUUID(), expires = stamp(20 * 86400e3); // not due: default updateAge 1 day
    await js.createSession({ sessionToken: token, userId: du.id, expires: new Date(expires) });
    const c = withToken(token);
    const r = await c("/session");
    assert.equal(r.status, 200);
    // Auth.js with this very adapter, on a twin session, answers the same.
    const twin = randomUUID();
    await js.createSession({ sessionToken: twin, userId: du.id, expires: new Date(expires) });
    const rj = await authjs(twin);
    assert.equal(rj.status, 200);
    const body = await rj.text();
    assert.equal(JSON.parse(body).user.email, du.email, "Auth.js sees the session");
    assert.equal(await r.text(), body, "authc's body = Auth.js's body");
    assert.equal(cookieMap(r).get(SESSION)?.value, token, "cookie re-sent");

    // Due for extension (older than updateAge): authc writes, Drizzle reads.
    const due = stamp(28 * 86400e3);
    await js.updateSession({ sessionToken: token, expires: new Date(due) });
    assert.equal((await (await c("/session")).json()).expires, new Date(due).toISOString());
    const ext = (await js.getSessionAndUser(token)).session.expires.getTime();
    assert.ok(Math.abs(ext - (Date.now() + 30 * 86400e3)) < 5000, `extended by authc to now + 30 days (got ${new Date(ext).toISOString()})`);

    const out = await c("/signout", { form: { csrfToken: await c.csrf() } });
    assert.equal(out.status, 302);
    assert.ok(isDeletion(cookieMap(out).get(SESSION)));
    assert.equal(await js.getSessionAndUser(token), null, "Drizzle no longer sees the session");

    // An expired Drizzle session is deleted by authc when met.
    const old = randomUUID();
    await js.createSession({ sessionToken: old, userId: du.id, expires: new Date(Date.now() - 1000) });
    assert.equal(await (await withToken(old)("/session")).text(), "null");
    assert.equal(await js.getSessionAndUser(old), null, "expired row deleted by authc");
  });
});
