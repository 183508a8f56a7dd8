// chromium-close.mjs — closes a playwright persistent context with a deadline:
// Chromium's shutdown can hang (seen once in CI), so it is then killed by PID.
import { readdirSync, readFileSync, rmSync } from "node:fs";

// PIDs of the processes whose command line holds `needle`.
function pidsWith(needle) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let cmd;
    try { cmd = readFileSync(`/proc/${name}/cmdline`, "latin1"); } catch { continue; }
    if (cmd.includes(needle)) out.push(Number(name));
  }
  return out;
}

// Closes `context` (launched on user-data-dir `dir`) within `ms`; on a hang
// or error, SIGKILLs every process started with that profile. Then removes
// `dir`. Returns true when the close was clean.
export async function closeProfile(context, dir, ms = 10000) {
  let timer;
  const clean = await Promise.race([
    context.close().then(() => true, () => false),
    new Promise((r) => { timer = setTimeout(() => r(false), ms); }),
  ]);
  clearTimeout(timer);
  if (!clean) {
    const pids = pidsWith(`--user-data-dir=${dir}`);
    for (const p of pids) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } }
    process.stderr.write(`chromium did not close within ${ms} ms; killed ${pids.length} process(es) of ${dir}\n`);
  }
  rmSync(dir, { recursive: true, force: true });
  return clean;
}
