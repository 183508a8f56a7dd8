// db-servers.mjs — throwaway PostgreSQL and Redis servers (loopback port, temp
// dir, stopped by PID), the adapter CLI driver, and a tiny mock OIDC issuer
// for the database-session e2e tests.
import { execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomUUID, sign as cryptoSign, createHash } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { AUTHC_BIN, freePort, repoRoot } from "./server.mjs";

const run = promisify(execFile);

// ------------------------------------------------------------------ helpers

// A zombie (exited, not yet reaped by its parent) counts as gone: the
// postmaster is daemonized, so its parent is whatever reaps orphans here.
function pidAlive(pid) {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return st.slice(st.lastIndexOf(")") + 2)[0] !== "Z";
  } catch { return true; }
}

async function waitGone(pid, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !pidAlive(pid);
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("exit", () => { clearTimeout(t); resolve(true); });
  });
}

// PostgreSQL server binaries: $PGBIN, else the newest /usr/lib/postgresql/N/bin.
function pgBin() {
  if (process.env.PGBIN) return process.env.PGBIN;
  const base = "/usr/lib/postgresql";
  const vers = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, "bin/initdb"))) : [];
  vers.sort((a, b) => Number(b) - Number(a));
  if (!vers.length) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (set PGBIN)");
  return path.join(base, vers[0], "bin");
}

// ------------------------------------------------------------------ PostgreSQL

// Starts a fresh cluster on a free loopback port with database authc_test.
// Returns {url, port, dir, pid(), query(sql), stop(), start(), close()}.
// stop() is a fast shutdown of the postmaster (SIGINT by its PID); start()
// brings it back on the same port and data directory.
export async function startPostgres() {
  const bin = pgBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-pg-"));
  const pgdata = path.join(dir, "pg");
  // PostgreSQL refuses to run as root: run its tools as "postgres" then.
  const asRoot = process.getuid() === 0;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]).catch(() => {
      throw new Error("running as root but there is no 'postgres' user");
    });
    chownSync(dir, Number(stdout.trim()), -1);
  }
  const pg = (tool, args) => (asRoot ? run("runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args]) : run(path.join(bin, tool), args));
  await pg("initdb", ["-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    try {
      await pg("pg_ctl", ["-D", pgdata, "-l", path.join(dir, "pg.log"), "-w", "-t", "30", "-o", opts, "start"]);
    } catch (e) {
      let log = "";
      try { log = readFileSync(path.join(dir, "pg.log"), "utf8"); } catch { /* none */ }
      throw new Error(`PostgreSQL did not start: ${e.message}\n${log.slice(-2000)}`);
    }
  };
  const pid = () => {
    try { return Number(readFileSync(path.join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]); } catch { return 0; }
  };
  const stop = async () => {
    const p = pid();
    if (!p || !pidAlive(p)) return;
    process.kill(p, "SIGINT"); // fast shutdown: ends sessions, then exits
    if (!(await waitGone(p, 15000))) {
      process.kill(p, "SIGKILL");
      await waitGone(p, 5000);
    }
  };
  await start();
  try {
    await pg("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "authc_test"]);
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    kind: "postgres",
    url: `postgres://postgres@127.0.0.1:${port}/authc_test`,
    port, dir, pid, start, stop,
    // Runs SQL with psql; returns the rows as arrays of strings.
    async query(sql) {
      const { stdout } = await run("psql", ["-X", "-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "authc_test",
        "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]);
      return stdout.split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ Redis

// Starts redis-server (not daemonized: the child's PID is ours) on a free
// loopback port, no RDB snapshots; opts.persist keeps the data across
// stop()/start() (append-only file, fsync always). Returns {url, port,
// prefix, cmd(...args), stop(), start(), close()}.
export async function startRedis(prefix = "e2e:", opts = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-redis-"));
  const port = await freePort();
  let child = null;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
      "--appendonly", opts.persist ? "yes" : "no", "--appendfsync", "always"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (d) => { log += d; });
    child.stderr.on("data", (d) => { log += d; });
    const end = Date.now() + 10000;
    while (Date.now() < end) {
      if (child.exitCode !== null) break;
      try {
        const { stdout } = await run("redis-cli", ["-p", String(port), "PING"]);
        if (stdout.trim() === "PONG") return;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on ${port}: ${log.slice(-2000)}`);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, "SIGTERM");
    if (!(await waitExit(child, 10000))) {
      process.kill(child.pid, "SIGKILL");
      await waitExit(child, 5000);
    }
  };
  await start();
  return {
    kind: "redis",
    url: `redis://127.0.0.1:${port}/0?prefix=${encodeURIComponent(prefix)}`,
    port, prefix, dir, start, stop,
    pid: () => child?.pid ?? 0,
    // One redis-cli command; returns its raw stdout (trimmed).
    async cmd(...args) {
      const { stdout } = await run("redis-cli", ["-p", String(port), "--raw", ...args]);
      return stdout.replace(/\n$/, "");
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ SQLite

// Runs SQL on a SQLite file with the sqlite3 shell; returns rows as objects.
export async function sqliteQuery(file, sql) {
  const { stdout } = await run("sqlite3", ["-json", "-cmd", ".timeout 5000", file, sql]);
  return stdout.trim() ? JSON.parse(stdout) : [];
}

// ------------------------------------------------------------------ adapter CLI

export const ADAPTER_CLI =
  process.env.AUTHC_ADAPTER_CLI || path.join(path.dirname(AUTHC_BIN), "tests/adapters/authc_adapter_cli");

// Opens authc's adapter for `url` in tests/adapters/cli_main.c (JSON lines:
// {"op":…} → {"ok":true,"result":…}). call() rejects on an adapter error.
export async function openAdapterCli(url) {
  if (!existsSync(ADAPTER_CLI)) throw new Error(`${ADAPTER_CLI} not built (cmake --build build, or set AUTHC_ADAPTER_CLI)`);
  const proc = spawn(ADAPTER_CLI, ["e2e", url], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const waiting = [];
  const exited = new Promise((res) => proc.on("exit", (code, sig) => res(code ?? sig)));
  createInterface({ input: proc.stdout }).on("line", (l) => waiting.shift()?.resolve(l));
  exited.then((code) => { for (const w of waiting.splice(0)) w.reject(new Error(`adapter CLI exited (${code}): ${stderr}`)); });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = JSON.parse(await next());
  if (!ready.ready) throw new Error(`adapter CLI not ready: ${JSON.stringify(ready)}`);
  // One command at a time: replies are matched to requests by order.
  let chain = Promise.resolve();
  const call = (op, args = {}) => {
    const p = chain.then(async () => {
      const reply = next();
      proc.stdin.write(JSON.stringify({ op, ...args }) + "\n");
      const r = JSON.parse(await reply);
      if (!r.ok) throw new Error(`adapter ${op} failed with authc_err ${r.err}: ${stderr.slice(-500)}`);
      return r.result;
    });
    chain = p.catch(() => {});
    return p;
  };
  return {
    call,
    stderr: () => stderr,
    async close() {
      proc.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`adapter CLI exited ${code}: ${stderr}`);
    },
  };
}

// A user and a session written through authc's adapter (the CLI). Returns
// {user, token, expires}.
export async function seedSession(cli, { expires = Date.now() + 30 * 86400e3, name, email } = {}) {
  const id = randomUUID().slice(0, 8);
  const user = await cli.call("create_user", { user: { name: name ?? `Seed ${id}`, email: email ?? `seed-${id}@example.com` } });
  const token = randomUUID();
  await cli.call("create_session", { session: { sessionToken: token, userId: user.id, expires } });
  return { user, token, expires };
}

// ------------------------------------------------------------------ mock OIDC issuer

function b64url(buf) {
  return Buffer.from(buf).toString("base64url");
}

// A minimal OpenID Connect issuer on loopback: discovery, an authorization
// endpoint that approves at once (as `login_hint` names the user, default a
// fresh one), a token endpoint checking the code, client secret and PKCE,
// RS256 id_tokens, JWKS. users: sub → {email, name}. Returns {issuer,
// clientId, clientSecret, env(id), close(), issued (count of id_tokens)}.
export async function startMockOidc() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  const clientId = "authc-e2e";
  const clientSecret = "mock-oidc-secret-" + randomUUID();
  const codes = new Map();
  const state = { issued: 0 };
  let issuer = "";
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, issuer);
    const json = (code, obj) => {
      res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(obj));
    };
    if (u.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer, authorization_endpoint: issuer + "/authorize", token_endpoint: issuer + "/token",
        jwks_uri: issuer + "/jwks", userinfo_endpoint: issuer + "/userinfo",
        response_types_supported: ["code"], subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"], code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      });
    }
    if (u.pathname === "/jwks") return json(200, { keys: [jwk] });
    if (u.pathname === "/authorize") {
      const q = u.searchParams;
      if (q.get("client_id") !== clientId || q.get("response_type") !== "code") return json(400, { error: "invalid_request" });
      const sub = q.get("login_hint") || "sub-" + randomUUID();
      const code = randomUUID();
      codes.set(code, { sub, nonce: q.get("nonce"), challenge: q.get("code_challenge"), redirect: q.get("redirect_uri") });
      const back = new URL(q.get("redirect_uri"));
      back.searchParams.set("code", code);
      if (q.get("state")) back.searchParams.set("state", q.get("state"));
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (u.pathname === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (d) => { body += d; });
      req.on("end", () => {
        const f = new URLSearchParams(body);
        let id = f.get("client_id"), secret = f.get("client_secret");
        const auth = req.headers.authorization;
        if (auth?.startsWith("Basic ")) {
          const [a, b] = Buffer.from(auth.slice(6), "base64").toString().split(":").map(decodeURIComponent);
          id = a; secret = b;
        }
        if (id !== clientId || secret !== clientSecret) return json(401, { error: "invalid_client" });
        const c = codes.get(f.get("code"));
        codes.delete(f.get("code"));
        if (!c || f.get("redirect_uri") !== c.redirect) return json(400, { error: "invalid_grant" });
        if (c.challenge) {
          const v = f.get("code_verifier") || "";
          if (b64url(createHash("sha256").update(v).digest()) !== c.challenge) return json(400, { error: "invalid_grant", error_description: "pkce" });
        }
        const now = Math.floor(Date.now() / 1000);
        const claims = { iss: issuer, aud: clientId, sub: c.sub, iat: now, exp: now + 300, email: `${c.sub}@example.com`, name: `User ${c.sub}` };
        if (c.nonce) claims.nonce = c.nonce;
        const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "k1" }));
        const input = head + "." + b64url(JSON.stringify(claims));
        const idToken = input + "." + b64url(cryptoSign("sha256", Buffer.from(input), privateKey));
        state.issued++;
        return json(200, { access_token: "at-" + randomUUID(), token_type: "bearer", expires_in: 3600, id_token: idToken, scope: "openid email profile" });
      });
      return;
    }
    json(404, { error: "not_found" });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  issuer = `http://127.0.0.1:${srv.address().port}`;
  return {
    issuer, clientId, clientSecret,
    get issued() { return state.issued; },
    // The authc settings for a generic OIDC provider with this id.
    env(id = "mock") {
      const E = id.toUpperCase().replace(/-/g, "_");
      return { [`AUTH_${E}_ISSUER`]: issuer, [`AUTH_${E}_ID`]: clientId, [`AUTH_${E}_SECRET`]: clientSecret };
    },
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

// Signs in through the mock issuer with an authc `client()` (server.mjs):
// POST /signin/<id> → authorize at the issuer → GET /callback/<id>. Returns
// the callback response (302 with the session cookie on success).
export async function oidcSignIn(c, { provider = "mock", sub } = {}) {
  const csrfToken = await c.csrf();
  const r1 = await c(`/signin/${provider}`, { form: { csrfToken, callbackUrl: "/" } });
  if (r1.status !== 302) throw new Error(`POST /signin/${provider} answered ${r1.status}: ${await r1.text()}`);
  const authz = new URL(r1.headers.get("location"));
  if (sub) authz.searchParams.set("login_hint", sub);
  const r2 = await fetch(authz, { redirect: "manual" });
  await r2.arrayBuffer();
  if (r2.status !== 302) throw new Error(`mock issuer /authorize answered ${r2.status} for ${authz}`);
  return c(r2.headers.get("location"));
}

export { repoRoot };
