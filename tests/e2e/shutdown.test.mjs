// shutdown.test.mjs — graceful shutdown of `authc serve` (issue 14 item 5):
// on SIGTERM it stops accepting, answers the requests in flight (here a
// sign-in callback waiting on a slow provider), and exits 0.
import net from "node:net";
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { callbackInFlight, startHangingIdp } from "./lib/oauth-servers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const connects = (port) => new Promise((resolve) => {
  const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
  s.on("error", () => resolve(false));
});

test("SIGTERM: the in-flight request is answered, new connections are refused, exit 0", { timeout: 60_000 }, async () => {
  const idp = await startHangingIdp(2500);
  const srv = await startServer({ env: { AUTH_GITHUB_ID: "x", AUTH_GITHUB_SECRET: "y", AUTHC_GITHUB_BASE_URL: idp.base } });
  try {
    // The callback waits on the provider's token endpoint for 2.5 s.
    const { inflight } = await callbackInFlight(srv, idp);
    assert.equal(idp.hits(), 1, "the callback is waiting on the provider");
    process.kill(srv.pid, "SIGTERM");
    await sleep(300);
    assert.equal(await connects(srv.port), false, "no new connections after SIGTERM");
    const res = await inflight;
    assert.equal(res.status, 302, "the in-flight request got its answer");
    assert.equal(res.location, srv.url("/error?error=Configuration"));
    const st = await srv.stop();
    assert.equal(st.forced, false, "exited by itself");
    assert.equal(st.code, 0, `exit code: ${srv.stderr()}`);
    assert.match(srv.stderr(), /received SIGTERM/);
  } finally {
    await srv.stop().catch(() => {});
    await idp.stop();
  }
});

test("SIGTERM with idle keep-alive connections open exits promptly with 0", async () => {
  const srv = await startServer();
  const held = [];
  for (let i = 0; i < 20; i++) {
    const s = net.connect(srv.port, "127.0.0.1");
    s.on("error", () => {});
    s.write("GET /auth/csrf HTTP/1.1\r\nHost: x\r\n\r\n");
    held.push(s);
  }
  await sleep(300);
  const st = await srv.stop();
  for (const s of held) s.destroy();
  assert.equal(st.forced, false, "did not need SIGKILL");
  assert.equal(st.code, 0);
});
