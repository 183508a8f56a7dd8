// nginx.mjs — a private Debian nginx for e2e tests: its own prefix in a temp
// dir, a free loopback port, the config given by the test; stopped by PID.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./server.mjs";

export const NGINX_BIN = process.env.NGINX_BIN || "/usr/sbin/nginx";

export function haveNginx() {
  return existsSync(NGINX_BIN);
}

// Starts nginx with `http` (the body of its http {} block, a function of the
// listening port). Returns {port, origin, pid, dir, errorLog(), accessLog(), stop()}.
export async function startNginx(http) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-nginx-"));
  for (const d of ["logs", "tmp"]) mkdirSync(path.join(dir, d));
  const conf = `
worker_processes 1;
daemon off;
master_process on;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
events { worker_connections 1024; }
http {
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${http(port)}
}
`;
  writeFileSync(path.join(dir, "nginx.conf"), conf);
  const t = spawnSync(NGINX_BIN, ["-t", "-p", dir, "-c", path.join(dir, "nginx.conf")], { encoding: "utf8" });
  if (t.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t failed: ${t.stderr}`);
  }
  const child = spawn(NGINX_BIN, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => { err += d; });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 8000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    try {
      const r = await fetch(origin + "/__nginx_probe", { redirect: "manual", signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`nginx did not come up on ${port}: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const read = (f) => { try { return readFileSync(path.join(dir, "logs", f), "utf8"); } catch { return ""; } };
  return {
    port, origin, pid: child.pid, dir,
    errorLog: () => read("error.log"),
    accessLog: () => read("access.log"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGQUIT: graceful stop of master and workers; SIGKILL if it hangs.
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGQUIT");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await done;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
