// next-app.mjs — builds examples/next-app once per run (`next build`, output
// in its own .next/) and runs `next start` against an authc, stopped by PID.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { freePort, repoRoot } from "./server.mjs";

export const NEXT_APP_DIR = path.join(repoRoot, "examples/next-app");
const NEXT_BIN = path.join(repoRoot, "node_modules/next/dist/bin/next");

// What next sees: no AUTHC_URL at build time (auth.ts must import without it).
function nextEnv(extra = {}) {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME || NEXT_APP_DIR, LANG: "C.UTF-8",
    NEXT_TELEMETRY_DISABLED: "1", ...extra,
  };
}

// `next build` of the example (type-checked: the app is strict TypeScript).
// Throws with the build's output when it fails.
export function buildNextApp() {
  if (!existsSync(NEXT_BIN)) throw new Error(`${NEXT_BIN} not found: run npm ci at the repository root`);
  const r = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: NEXT_APP_DIR, env: nextEnv({ NODE_ENV: "production" }), encoding: "utf8", timeout: 900000,
  });
  if (r.status !== 0)
    throw new Error(`next build failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stdout || "").slice(-4000)}${(r.stderr || "").slice(-4000)}`);
  return r.stdout;
}

function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("exit", () => { clearTimeout(t); resolve(true); });
  });
}

// Starts `next start` of the built example on `port` (a free one by
// default) with AUTHC_URL = authcOrigin. Returns {origin, port, pid, log(), stop()}.
export async function startNextApp({ authcOrigin, port }) {
  port ??= await freePort();
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: NEXT_APP_DIR, env: nextEnv({ NODE_ENV: "production", AUTHC_URL: authcOrigin }), stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  child.on("error", (e) => { log += `spawn error: ${e.message}\n`; });
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, "SIGTERM");
      if (!(await exited(child, 5000))) {
        try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
        await exited(child, 3000);
      }
    }
  };
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(origin + "/api/auth/providers", { signal: AbortSignal.timeout(3000) });
      await r.arrayBuffer();
      if (r.ok) return { origin, port, pid: child.pid, log: () => log, stop };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`next start did not come up on ${port}: ${log.slice(-3000)}`);
}
