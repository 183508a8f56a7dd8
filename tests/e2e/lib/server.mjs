// server.mjs — starts and stops a real `authc serve` for the e2e tests
// (free loopback port, fresh temp dir and users file, stop by PID).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
export const AUTHC_BIN = process.env.AUTHC_BIN || path.join(repoRoot, "build/authc");

export const SECRET = "e2e-secret-0123456789abcdefghijklmnopqrstuvwxyz";
export const PASSWORD = "correct horse battery staple";
export const ALICE = { id: "u-alice", username: "alice", password: PASSWORD, email: "alice@example.com", name: "Alice Example" };

const hashCache = new Map();

function needBinary() {
  if (!existsSync(AUTHC_BIN)) throw new Error(`authc binary not found at ${AUTHC_BIN}: build it (cmake --build build) or set AUTHC_BIN`);
}

// Runs `authc hash-password` with the password on stdin; returns the hash.
export function hashPassword(password) {
  if (hashCache.has(password)) return hashCache.get(password);
  needBinary();
  const r = spawnSync(AUTHC_BIN, ["hash-password"], { input: password + "\n", encoding: "utf8" });
  if (r.status !== 0) throw new Error(`authc hash-password failed (${r.status}): ${r.stderr}`);
  const h = r.stdout.trim();
  if (!h.startsWith("$argon2id$")) throw new Error(`unexpected hash output: ${h}`);
  hashCache.set(password, h);
  return h;
}

export function userLine(u) {
  return `${u.id}:${u.username}:${hashPassword(u.password)}:${u.email ?? ""}:${u.name ?? ""}`;
}

// A loopback port the kernel just handed out (closed again before use).
export function freePort(host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Environment for a child: PATH/HOME only from ours, then the given values;
// a value of undefined removes the variable.
function childEnv(dir, opts) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME || dir, LANG: "C.UTF-8" };
  // Sanitizer settings reach the child (make test-e2e-asan logs reports to files).
  for (const k of ["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"]) if (process.env[k]) env[k] = process.env[k];
  const defaults = { AUTH_SECRET: SECRET, AUTH_TRUST_HOST: "1" };
  if (opts.usersFile !== false) defaults.AUTHC_USERS_FILE = path.join(dir, "users.txt");
  Object.assign(env, defaults, opts.env || {});
  // Email and passkeys with trust-host need an allow-list (or AUTH_URL):
  // loopback names on any port, unless the test chose otherwise.
  const chosen = opts.env || {};
  const mailOrPasskey = Object.keys(env).some((k) => env[k] !== undefined && /^(AUTHC_EMAIL|AUTHC_PASSKEY|EMAIL_SERVER$)/.test(k));
  if (mailOrPasskey && !env.AUTH_URL && !("AUTHC_ALLOWED_HOSTS" in chosen))
    env.AUTHC_ALLOWED_HOSTS = "127.0.0.1,localhost";
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

function prepareDir(opts) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-"));
  if (opts.usersFile !== false) {
    const users = opts.users || [ALICE];
    writeFileSync(path.join(dir, "users.txt"), users.map(userLine).join("\n") + "\n", { mode: 0o600 });
  }
  return dir;
}

// Runs a one-shot authc command (check, secret, a serve that must refuse)
// synchronously with the same environment rules as startServer. A run that
// outlives opts.timeout is SIGKILLed (result signal "SIGKILL").
export function runAuthc(args, opts = {}) {
  needBinary();
  const dir = prepareDir(opts);
  try {
    const r = spawnSync(AUTHC_BIN, args, { env: childEnv(dir, opts), encoding: "utf8", timeout: opts.timeout ?? 10000, killSignal: "SIGKILL", input: opts.input });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => { child.off("exit", onExit); resolve(false); }, ms);
    const onExit = () => { clearTimeout(t); resolve(true); };
    child.once("exit", onExit);
  });
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// Starts `authc serve` and waits until it answers HTTP. Options:
//   env: extra/overriding environment (undefined deletes), users: user
//   records (default [ALICE]), usersFile:false for none, args: extra argv,
//   basePath: where the routes are expected (default /auth), host: the
//   loopback address to listen on ("127.0.0.1", or "::1" for IPv6).
// Returns {url, origin, base, port, pid, dir, stderr(), alive(), stop()}.
export async function startServer(opts = {}) {
  needBinary();
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const host = opts.host ?? "127.0.0.1";
    const port = await freePort(host);
    const dir = prepareDir(opts);
    const hostPart = host.includes(":") ? `[${host}]` : host;
    const child = spawn(AUTHC_BIN, ["serve", "--listen", `${hostPart}:${port}`, ...(opts.args || [])], {
      env: childEnv(dir, opts), stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.on("error", (e) => { err += `spawn error: ${e.message}\n`; });
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    const origin = `http://${hostPart}:${port}`;
    const started = await waitHttp(child, origin + "/", 8000);
    if (started) {
      return makeHandle(child, { port, origin, dir, basePath: opts.basePath ?? "/auth", out: () => out, err: () => err });
    }
    await killChild(child);
    rmSync(dir, { recursive: true, force: true });
    lastErr = new Error(`authc serve did not come up on ${port} (exit ${child.exitCode}/${child.signalCode}): ${err.trim()}`);
    if (!/listen|in use/i.test(err)) break;
  }
  throw lastErr;
}

// True as soon as anything answers HTTP at url; false once the child has
// exited or after ms.
export async function waitHttp(child, url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const r = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      return true;
    } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

async function killChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode, forced: false, died: true };
  process.kill(child.pid, "SIGTERM");
  let forced = false;
  if (!(await waitExit(child, graceMs))) {
    forced = true;
    try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
    if (!(await waitExit(child, 3000))) throw new Error(`authc pid ${child.pid} survived SIGKILL`);
  }
  return { code: child.exitCode, signal: child.signalCode, forced, died: false };
}

function makeHandle(child, { port, origin, dir, basePath, out, err }) {
  let stopped = null;
  return {
    port, origin, pid: child.pid, dir, basePath,
    base: origin + basePath,
    url: (p = "") => origin + basePath + p,
    stdout: out,
    stderr: err,
    // True while the process runs and still answers HTTP.
    async alive() {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      try {
        const r = await fetch(origin + basePath + "/providers", { signal: AbortSignal.timeout(3000) });
        return r.status === 200 && typeof (await r.json()).credentials === "object";
      } catch { return false; }
    },
    // SIGTERM, then SIGKILL after a grace period; throws if it did not exit.
    async stop() {
      if (stopped) return stopped;
      stopped = await killChild(child);
      if (pidAlive(child.pid) && child.exitCode === null && child.signalCode === null)
        throw new Error(`authc pid ${child.pid} still running after stop()`);
      rmSync(dir, { recursive: true, force: true });
      return stopped;
    },
  };
}

// Runs fn(server) against a fresh server and always stops it. The server
// must still be running at the end and exit 0 on SIGTERM (so a crash, a
// sanitizer report or a hang fails the test).
export async function withServer(opts, fn) {
  if (typeof opts === "function") { fn = opts; opts = {}; }
  const srv = await startServer(opts);
  let result;
  try {
    result = await fn(srv);
  } finally {
    const st = await srv.stop();
    const tail = () => srv.stderr().split("\n").slice(-15).join("\n");
    if (st.died) throw new Error(`authc died during the test (exit ${st.code}, signal ${st.signal}):\n${tail()}`);
    if (st.forced) throw new Error("authc did not exit on SIGTERM");
    if (st.code !== 0) throw new Error(`authc exited ${st.code}/${st.signal} on SIGTERM:\n${tail()}`);
  }
  return result;
}

// Asserts that res is a 302 to location.
export function assertRedirect(res, location) {
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), location);
}

// ---------------------------------------------------------------- cookies

// Parses one Set-Cookie header into {name, value, attrs, raw, order}
// (attribute names lower-cased; flags map to true; order keeps their order).
export function parseSetCookie(sc) {
  const parts = sc.split(";").map((s) => s.trim());
  const [nv, ...rest] = parts;
  const eq = nv.indexOf("=");
  const name = eq < 0 ? nv : nv.slice(0, eq);
  const value = eq < 0 ? "" : nv.slice(eq + 1);
  const attrs = {};
  const order = [];
  for (const a of rest) {
    if (!a) continue;
    const i = a.indexOf("=");
    const k = (i < 0 ? a : a.slice(0, i)).toLowerCase();
    attrs[k] = i < 0 ? true : a.slice(i + 1);
    order.push(k);
  }
  return { name, value, attrs, order, raw: sc };
}

export function setCookies(res) {
  return res.headers.getSetCookie().map(parseSetCookie);
}

// Map name → parsed cookie of a response (last one of a name wins).
export function cookieMap(res) {
  const m = new Map();
  for (const c of setCookies(res)) m.set(c.name, c);
  return m;
}

export function isDeletion(c) {
  return c.attrs["max-age"] === "0" || c.value === "" ||
    (c.attrs.expires && Date.parse(c.attrs.expires) < Date.now());
}

// A minimal browser-like cookie store for one origin (path / only).
export class CookieJar {
  constructor() { this.map = new Map(); }
  update(res) {
    for (const c of setCookies(res)) {
      if (isDeletion(c)) this.map.delete(c.name);
      else this.map.set(c.name, c.value);
    }
  }
  set(name, value) { this.map.set(name, value); }
  get(name) { return this.map.get(name); }
  delete(name) { this.map.delete(name); }
  names() { return [...this.map.keys()].sort(); }
  header() { return [...this.map].map(([k, v]) => `${k}=${v}`).join("; "); }
}

// fetch against a server (authc, or anything with url(p) and fetch(url, init))
// with a cookie jar; never follows redirects.
// opts.form (object) → urlencoded body, opts.json → JSON body.
export function client(srv, jar = new CookieJar()) {
  const go = async (p, opts = {}) => {
    const headers = new Headers(opts.headers || {});
    const ck = jar.header();
    if (ck && !headers.has("cookie")) headers.set("cookie", ck);
    let body = opts.body;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers.set("content-type", "application/x-www-form-urlencoded");
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers.set("content-type", "application/json");
    }
    const url = /^https?:/.test(p) ? p : srv.url(p);
    const res = await (srv.fetch || fetch)(url, { method: opts.method || (body !== undefined ? "POST" : "GET"), headers, body, redirect: "manual" });
    jar.update(res);
    res.text = memoText(res);
    return res;
  };
  go.jar = jar;
  go.csrf = async () => {
    const r = await go("/csrf");
    const j = await r.json();
    return j.csrfToken;
  };
  go.signIn = async (username = ALICE.username, password = ALICE.password, extra = {}) => {
    const csrfToken = await go.csrf();
    return go("/callback/credentials", { form: { username, password, csrfToken, ...extra } });
  };
  return go;
}

// Response bodies may be read more than once in the tests.
function memoText(res) {
  const orig = res.text.bind(res);
  let p;
  const text = () => (p ||= orig());
  res.json = async () => JSON.parse(await text());
  return text;
}

// Raw HTTP over a socket: sends `data` as is, returns everything read until
// the server closes or `ms` passes.
export function rawRequest(port, data, ms = 3000) {
  return new Promise((resolve) => {
    const chunks = [];
    const s = net.connect(port, "127.0.0.1");
    const done = () => { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks).toString("latin1")); };
    const t = setTimeout(done, ms);
    s.on("data", (d) => {
      chunks.push(d);
      // One response is enough once its body (Content-Length) is complete.
      const txt = Buffer.concat(chunks).toString("latin1");
      const he = txt.indexOf("\r\n\r\n");
      if (he >= 0) {
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(txt.slice(0, he));
        if (m && txt.length >= he + 4 + Number(m[1])) done();
      }
    });
    s.on("error", done);
    s.on("end", done);
    s.on("connect", () => s.write(data));
  });
}
