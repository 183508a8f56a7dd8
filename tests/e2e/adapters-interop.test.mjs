// adapters-interop.test.mjs — authc's postgres and redis adapters against the real
// @auth/pg-adapter and @auth/upstash-redis-adapter on the same throwaway server.
//
// Each backend runs tests/adapters/with-servers.sh <authc_adapter_cli> <kind>:
// the script starts PostgreSQL or Redis, the C CLI (tests/adapters/cli_main.c)
// opens authc's adapter on it and answers JSON lines; the Auth.js adapter
// runs here on the same database. Rows written by one side must read back
// exactly on the other, both ways.
//
// Needs: the CLI built (AUTHC_ADAPTER_CLI, else tests/adapters/
// authc_adapter_cli in AUTHC_BIN's build dir or build/) and npm packages @auth/pg-adapter, pg,
// @auth/upstash-redis-adapter (Redis is reached through a tiny RESP client
// that serialises like @upstash/redis, which itself only speaks HTTP).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { authcWritesAuthjsReads, ms, sameAccount, sameUser, stamp } from "./lib/adapter-models.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// The CLI sits in the CMake build dir next to the authc program (AUTHC_BIN).
const CLI =
  process.env.AUTHC_ADAPTER_CLI ||
  path.join(process.env.AUTHC_BIN ? path.dirname(process.env.AUTHC_BIN) : path.join(root, "build"), "tests/adapters/authc_adapter_cli");
const WITH_SERVERS = path.join(root, "tests/adapters/with-servers.sh");
const PREFIX = "testApp:";

// ------------------------------------------------------------------ helpers

async function need(pkg) {
  try {
    return await import(pkg);
  } catch (e) {
    throw new Error(`npm package ${pkg} is missing (add it to package.json): ${e.message}`);
  }
}

// The authc side: with-servers.sh + the CLI, one JSON line per call.
class AuthcCli {
  static async start(kind) {
    if (!existsSync(CLI)) throw new Error(`${CLI} not built (set AUTHC_ADAPTER_CLI)`);
    const cli = new AuthcCli();
    cli.proc = spawn(WITH_SERVERS, [CLI, kind], { stdio: ["pipe", "pipe", "inherit"] });
    cli.exited = new Promise((res) => cli.proc.on("exit", (code) => res(code)));
    cli.waiting = [];
    createInterface({ input: cli.proc.stdout }).on("line", (l) => cli.waiting.shift()?.resolve(l));
    cli.exited.then((code) => {
      for (const w of cli.waiting.splice(0)) w.reject(new Error(`authc CLI exited with ${code}`));
    });
    const ready = JSON.parse(await cli.next());
    assert.equal(ready.ready, true);
    cli.url = ready.url;
    return cli;
  }
  next() {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  // Calls an adapter method; resolves to its result, rejects on an error.
  async call(op, args = {}) {
    const p = this.next();
    this.proc.stdin.write(JSON.stringify({ op, ...args }) + "\n");
    const r = JSON.parse(await p);
    if (!r.ok) throw new Error(`authc ${op} failed with authc_err ${r.err}`);
    return r.result;
  }
  async stop() {
    this.proc.stdin.end();
    return this.exited;
  }
}

// A minimal RESP client with @upstash/redis's (de)serialisation: values
// that are not strings are JSON.stringify'd; replies are JSON.parse'd when
// they parse, else returned raw (so "123" comes back as a number).
class UpstashLike {
  constructor(port) {
    this.sock = net.connect(port, "127.0.0.1");
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.sock.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = this.parse(0);
        if (!r) break;
        this.buf = this.buf.subarray(r.end);
        const w = this.waiting.shift();
        r.err ? w.reject(new Error(r.err)) : w.resolve(r.value);
      }
    });
  }
  parse(at) {
    const eol = this.buf.indexOf("\r\n", at);
    if (eol < 0) return null;
    const type = String.fromCharCode(this.buf[at]);
    const line = this.buf.toString("utf8", at + 1, eol);
    if (type === "+") return { value: line, end: eol + 2 };
    if (type === "-") return { err: line, end: eol + 2 };
    if (type === ":") return { value: Number(line), end: eol + 2 };
    if (type === "$") {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (this.buf.length < eol + 2 + n + 2) return null;
      return { value: this.buf.toString("utf8", eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    throw new Error(`unexpected RESP reply type ${type}`);
  }
  raw(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(parts.join(""));
    });
  }
  async get(key) {
    const v = await this.raw("GET", key);
    if (v === null) return null;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  async set(key, value) {
    return this.raw("SET", key, typeof value === "string" ? value : JSON.stringify(value));
  }
  async del(...keys) {
    return this.raw("DEL", ...keys);
  }
  close() {
    this.sock.end();
  }
}

// ------------------------------------------------------------------ the shared scenario

// Runs the interop checks for one backend. `js` is the Auth.js adapter.
function scenario(name, setup) {
  describe(`${name}: authc adapter <-> Auth.js adapter on one database`, () => {
    let env;
    before(async () => {
      env = await setup();
    });
    after(async () => {
      if (env) {
        await env.close?.();
        const code = await env.cli.stop();
        assert.equal(code, 0, "authc CLI exit code");
      }
    });

    test("authc writes a user, account and session; Auth.js reads them", async () => {
      const { cli, js } = env;
      const { u, token, expires } = await authcWritesAuthjsReads(cli, js);

      await cli.call("update_session", { session: { sessionToken: token, expires: expires + 1000 } });
      assert.equal((await js.getSessionAndUser(token)).session.expires.getTime(), expires + 1000);

      const renamed = await cli.call("update_user", { user: { id: u.id, name: "Renamed", fields: 1 } });
      sameUser(renamed, await js.getUser(String(u.id)), "getUser after update_user");
    });

    test("authc changes an email: the old one no longer finds the user", async () => {
      const { cli, js } = env;
      const old = `old-${randomUUID()}@example.com`, now = `new-${randomUUID()}@example.com`;
      const u = await cli.call("create_user", { user: { email: old } });
      const v = await cli.call("update_user", { user: { id: u.id, email: now, fields: 2 } });
      sameUser(v, await js.getUserByEmail(now), "getUserByEmail(new)");
      assert.equal(await js.getUserByEmail(old), null, "getUserByEmail(old) still finds the user");
    });

    test("authc verification token is usable once by Auth.js", async () => {
      const { cli, js } = env;
      const vt = { identifier: `vt-${randomUUID()}@example.com`, token: randomUUID().replace(/-/g, ""), expires: stamp(86400e3) };
      await cli.call("create_verification_token", { token: vt });
      const used = await js.useVerificationToken({ identifier: vt.identifier, token: vt.token });
      assert.ok(used, "useVerificationToken found nothing");
      assert.equal(used.identifier, vt.identifier);
      assert.equal(used.token, vt.token);
      assert.equal(ms(used.expires), vt.expires);
      assert.equal(await cli.call("use_verification_token", { identifier: vt.identifier, token: vt.token }), null);
    });

    test("Auth.js writes a user, account and session; authc reads them", async () => {
      const { cli, js } = env;
      const email = `js-${randomUUID()}@example.com`;
      const ju = await js.createUser({ id: randomUUID(), name: "JS Writer", email, image: null, emailVerified: new Date(stamp()) });
      const cu = await cli.call("get_user", { id: String(ju.id) });
      sameUser(cu, ju, "get_user");
      sameUser(await cli.call("get_user_by_email", { email }), ju, "get_user_by_email");

      const account = {
        userId: ju.id, type: "oidc", provider: "google", providerAccountId: String(10 ** 15 + Math.floor(Math.random() * 1e6)),
        access_token: "at", id_token: "eyJ.x.y", token_type: "bearer", scope: "openid email",
        expires_at: Math.floor(Date.now() / 1000) + 3599,
      };
      await js.linkAccount(account);
      const ca = await cli.call("get_account", { providerAccountId: account.providerAccountId, provider: "google" });
      sameAccount(ca, account, "get_account");
      sameUser(await cli.call("get_user_by_account", { provider: "google", providerAccountId: account.providerAccountId }), ju, "get_user_by_account");

      const token = randomUUID(), expires = new Date(stamp(7 * 86400e3));
      await js.createSession({ sessionToken: token, userId: ju.id, expires });
      const su = await cli.call("get_session_and_user", { sessionToken: token });
      assert.ok(su, "get_session_and_user found nothing");
      assert.equal(su.session.expires, expires.getTime());
      assert.equal(su.session.userId, String(ju.id));
      sameUser(su.user, ju, "get_session_and_user.user");

      const verified = new Date(stamp());
      const ju2 = await js.updateUser({ id: ju.id, emailVerified: verified });
      assert.equal((await cli.call("get_user", { id: String(ju.id) })).emailVerified, verified.getTime());
      assert.equal(ms(ju2.emailVerified), verified.getTime());

      await js.deleteSession(token);
      assert.equal(await cli.call("get_session_and_user", { sessionToken: token }), null);
    });

    test("Auth.js verification token is usable once by authc", async () => {
      const { cli, js } = env;
      const vt = { identifier: `vt-${randomUUID()}@example.com`, token: randomUUID(), expires: new Date(stamp(3600e3)) };
      await js.createVerificationToken(vt);
      const used = await cli.call("use_verification_token", { identifier: vt.identifier, token: vt.token });
      assert.deepEqual(used, { identifier: vt.identifier, token: vt.token, expires: vt.expires.getTime() });
      assert.equal(await js.useVerificationToken({ identifier: vt.identifier, token: vt.token }), null);
    });

    test("authc deleteUser removes what Auth.js linked", async () => {
      const { cli, js } = env;
      const ju = await js.createUser({ id: randomUUID(), email: `del-${randomUUID()}@example.com`, emailVerified: null });
      const pai = randomUUID();
      await js.linkAccount({ userId: ju.id, type: "oauth", provider: "gitlab", providerAccountId: pai });
      const token = randomUUID();
      await js.createSession({ sessionToken: token, userId: ju.id, expires: new Date(stamp(3600e3)) });
      await cli.call("delete_user", { id: String(ju.id) });
      assert.equal(await js.getUser(String(ju.id)), null, "user survived");
      assert.equal(await js.getUserByAccount({ provider: "gitlab", providerAccountId: pai }), null, "account survived");
      assert.equal(await js.getSessionAndUser(token), null, "session survived");
      if (env.raw) {
        assert.equal(await env.raw(`user:account:gitlab:${pai}`), null, "account key survived");
        assert.equal(await env.raw(`user:session:${token}`), null, "session key survived");
      }
    });

    test("Auth.js deleteUser on an authc user", async () => {
      const { cli, js } = env;
      const u = await cli.call("create_user", { user: { email: `jsdel-${randomUUID()}@example.com` } });
      const token = randomUUID();
      await cli.call("create_session", { session: { sessionToken: token, userId: u.id, expires: stamp(3600e3) } });
      await js.deleteUser(String(u.id));
      assert.equal(await cli.call("get_user", { id: u.id }), null);
      assert.equal(await cli.call("get_session_and_user", { sessionToken: token }), null);
    });

    if (name === "redis") {
      test("stored bytes are upstash's: compact JSON, ISO dates, raw index values, TTLs", async () => {
        const { cli, raw } = env;
        const email = `bytes-${randomUUID()}@example.com`;
        const u = await cli.call("create_user", { user: { name: "B", email, emailVerified: Date.UTC(2024, 0, 2, 3, 4, 5, 678) } });
        assert.equal(await raw(`user:email:${email}`), u.id);
        assert.equal(
          await raw(`user:${u.id}`),
          JSON.stringify({ id: u.id, name: "B", email, image: null, emailVerified: "2024-01-02T03:04:05.678Z" }),
        );
        const token = randomUUID();
        await cli.call("create_session", { session: { sessionToken: token, userId: u.id, expires: Date.UTC(2030, 2, 1) } });
        assert.equal(await raw(`user:session:${token}`), JSON.stringify({ sessionToken: token, userId: u.id, expires: "2030-03-01T00:00:00.000Z" }));
        assert.equal(await raw(`user:session:by-user-id:${u.id}`), `${PREFIX}user:session:${token}`);
        assert.ok((await env.client.raw("PTTL", `${PREFIX}user:session:${token}`)) > 0, "session key has no TTL");
        await cli.call("link_account", { account: { userId: u.id, type: "oauth", provider: "github", providerAccountId: "12345", expires_at: 2592000, token_type: "bearer" } });
        assert.equal(
          await raw("user:account:github:12345"),
          JSON.stringify({ provider: "github", providerAccountId: "12345", type: "oauth", userId: u.id, expires_at: 2592000, token_type: "bearer", id: "github:12345" }),
        );
        assert.equal(await raw(`user:account:by-user-id:${u.id}`), `${PREFIX}user:account:github:12345`);
      });
    }
  });
}

scenario("postgres", async () => {
  const { PostgresAdapter: PgAdapter } = await need("@auth/pg-adapter").then((m) => ({ PostgresAdapter: m.default ?? m.PostgresAdapter }));
  const pg = (await need("pg")).default;
  const cli = await AuthcCli.start("postgres");
  const pool = new pg.Pool({ connectionString: cli.url, max: 2 });
  return { cli, js: PgAdapter(pool), close: () => pool.end() };
});

scenario("redis", async () => {
  const { UpstashRedisAdapter } = await need("@auth/upstash-redis-adapter");
  const cli = await AuthcCli.start("redis");
  const port = Number(new URL(cli.url).port);
  const client = new UpstashLike(port);
  const rawClient = new UpstashLike(port);
  // Raw bytes of a key under the prefix, without JSON.parse.
  const raw = (key) => rawClient.raw("GET", PREFIX + key);
  return {
    cli,
    js: UpstashRedisAdapter(client, { baseKeyPrefix: PREFIX }),
    raw,
    client: rawClient,
    close: () => {
      client.close();
      rawClient.close();
    },
  };
});
