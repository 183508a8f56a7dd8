// apps-procs.mjs — builds and runs the two example apps for apps.test.mjs:
// the C app (CMake target authc-c-app) and the React bundle (build.sh),
// each on a free loopback port, stopped by PID.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ALICE, AUTHC_BIN, SECRET, freePort, repoRoot, startServer, userLine, waitHttp } from "./server.mjs";

export { ALICE, SECRET, freePort, repoRoot, startServer };

// The CMake build dir the tests use: AUTHC_BUILD_DIR, else where AUTHC_BIN lives.
function buildDir() {
  return process.env.AUTHC_BUILD_DIR || path.dirname(AUTHC_BIN);
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: "utf8", timeout: 600000 });
  if (r.status !== 0)
    throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stdout || "").slice(-2000)}${(r.stderr || "").slice(-4000)}`);
  return r;
}

// Path of an up-to-date authc-c-app: AUTHC_C_APP_BIN as given, else built
// with `cmake --build <build dir> --target authc-c-app` (configured first if needed).
export function cAppBinary() {
  if (process.env.AUTHC_C_APP_BIN) {
    if (!existsSync(process.env.AUTHC_C_APP_BIN)) throw new Error(`AUTHC_C_APP_BIN=${process.env.AUTHC_C_APP_BIN} does not exist`);
    return process.env.AUTHC_C_APP_BIN;
  }
  const dir = buildDir();
  if (!existsSync(path.join(dir, "CMakeCache.txt"))) run("cmake", ["-S", repoRoot, "-B", dir], "cmake configure");
  run("cmake", ["--build", dir, "--target", "authc-c-app", "-j", String(Math.max(2, os.cpus().length))], "building authc-c-app");
  const bin = path.join(dir, "examples/c-app/authc-c-app");
  if (!existsSync(bin)) throw new Error(`authc-c-app was built but is not at ${bin}`);
  return bin;
}

// Bundles examples/react-app into a fresh temp dir with its build script;
// returns the dir (the caller removes it).
export function buildReactApp() {
  const out = mkdtempSync(path.join(os.tmpdir(), "authc-react-dist-"));
  rmSync(out, { recursive: true, force: true });
  run(path.join(repoRoot, "examples/react-app/build.sh"), [out], "examples/react-app/build.sh");
  if (!existsSync(path.join(out, "index.html"))) throw new Error("the React build produced no index.html");
  return out;
}

// Resolves true once the child has exited and its output is fully read
// ("close"), false after ms.
function exited(child, ms) {
  if (child.__closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("close", () => { clearTimeout(t); resolve(true); });
  });
}

// Starts authc-c-app with a fresh users file (ALICE) and the test secret.
// Returns {origin, pid, stderr(), stop()}.
export async function startCApp({ users = [ALICE], env = {} } = {}) {
  const bin = cAppBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-c-app-"));
  writeFileSync(path.join(dir, "users.txt"), users.map(userLine).join("\n") + "\n", { mode: 0o600 });
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ["--listen", `127.0.0.1:${port}`], {
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME || dir, LANG: "C.UTF-8",
        AUTH_SECRET: SECRET, AUTH_TRUST_HOST: "1", AUTHC_USERS_FILE: path.join(dir, "users.txt"), ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stdout.on("data", (d) => { err += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.on("error", (e) => { err += `spawn error: ${e.message}\n`; });
    child.on("close", () => { child.__closed = true; });
    const origin = `http://127.0.0.1:${port}`;
    if (await waitHttp(child, origin + "/auth/providers", 8000)) {
      let stopped = null;
      return {
        origin, port, pid: child.pid, stderr: () => err,
        async stop() {
          if (stopped) return stopped;
          if (!child.__closed) {
            if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGTERM");
            if (!(await exited(child, 3000))) {
              try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
              await exited(child, 3000);
              stopped = { forced: true };
            }
          }
          stopped ??= { forced: false, code: child.exitCode, signal: child.signalCode };
          rmSync(dir, { recursive: true, force: true });
          return stopped;
        },
      };
    }
    if (child.exitCode === null) { try { process.kill(child.pid, "SIGKILL"); } catch { /* gone */ } await exited(child, 3000); }
    lastErr = new Error(`authc-c-app did not come up on ${port}: ${err.trim()}`);
    if (!/listen|in use/i.test(err)) break;
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}
