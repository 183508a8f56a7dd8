// listen.test.mjs — `authc serve --listen` on IPv6 ([::1]:PORT): the Auth.js
// flow over IPv6, and bad addresses refused. (IPV6_V6ONLY shows only on [::],
// a wildcard address the tests do not bind.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { withServer, client, runAuthc, ALICE, freePort } from "./lib/server.mjs";

// A machine without an IPv6 loopback cannot run these: say so, do not fail.
const noV6 = await freePort("::1").then(() => false, () => "no IPv6 loopback (::1) on this machine");

describe("listen on IPv6", { skip: noV6 }, () => {
  it("signs in and reads the session over [::1], with the bracketed origin", async () => {
    await withServer({ host: "::1", env: { AUTHC_LOG_FORMAT: "json" } }, async (srv) => {
      assert.match(srv.origin, /^http:\/\/\[::1\]:\d+$/);
      const c = client(srv);
      const res = await c.signIn();
      assert.equal(res.status, 302);
      // Redirects stay on the origin the client used, brackets included.
      assert.equal(new URL(res.headers.get("location")).origin, srv.origin);
      const s = await (await c("/session")).json();
      assert.equal(s.user.email, ALICE.email);
      assert.equal(decodeURIComponent(c.jar.get("authjs.callback-url")), srv.origin);
      // The access log names the IPv6 peer.
      const lines = srv.stderr().split("\n").filter((l) => l.startsWith("{"));
      assert.ok(lines.some((l) => JSON.parse(l).client_ip === "::1"), srv.stderr().slice(-2000));
    });
  });

  it("refuses listen addresses it cannot use, saying how to write one", async () => {
    const port = await freePort();
    for (const [addr, why] of [
      [`::1:${port}`, /IPv6 goes in brackets/],
      [`[::1]`, /HOST:PORT/],
      [`[127.0.0.1]:${port}`, /not an IPv6 address/],
      [`[::1]:99999`, /bad port/],
    ]) {
      const r = runAuthc(["serve", "--listen", addr]);
      assert.notEqual(r.status, 0, addr);
      assert.match(r.stderr, why, addr);
    }
  });
});
