// http-limits.test.mjs — the HTTP front end's limits (issue 13 items 1 and
// 5, issue 14): request targets, framing, body and header limits,
// deadlines against slow clients, connection caps.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { client, rawRequest, withServer } from "./lib/server.mjs";

const statusOf = (raw) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] || 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends data on a fresh connection; resolves {text, closed} once the peer
// closed the connection (closed true) or after ms (closed false).
function exchange(port, data, ms = 5000) {
  return new Promise((resolve) => {
    const chunks = [];
    const s = net.connect(port, "127.0.0.1");
    const done = (closed) => { clearTimeout(t); s.destroy(); resolve({ text: Buffer.concat(chunks).toString("latin1"), closed }); };
    const t = setTimeout(() => done(false), ms);
    s.on("data", (d) => chunks.push(d));
    s.on("error", () => done(true));
    s.on("end", () => done(true));
    s.on("connect", () => s.write(data));
  });
}

// A connection that sends `head` one byte every `every` ms. Resolves
// closedAt (ms after the start) when the server closes it.
function trickle(port, head, every) {
  const s = net.connect(port, "127.0.0.1");
  const t0 = Date.now();
  let i = 0, timer;
  const closed = new Promise((resolve) => {
    const end = () => { clearInterval(timer); resolve(Date.now() - t0); };
    s.on("close", end);
    s.on("error", () => {});
  });
  s.on("connect", () => {
    timer = setInterval(() => { if (i < head.length && !s.destroyed) s.write(head[i++]); }, every);
  });
  return { closed, destroy: () => { clearInterval(timer); s.destroy(); } };
}

describe("request targets (issue 13 item 1)", () => {
  let dir;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "authc-static-"));
    writeFileSync(path.join(dir, "index.html"), "<!doctype html><p>app</p>\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("targets that are not origin-form get 400 and close; --static keeps serving", () =>
    withServer({ args: ["--static", dir] }, async (srv) => {
      for (const target of ["foo", "*", "?x", "index.html", "auth/session", "http://127.0.0.1/auth/session"]) {
        const r = await exchange(srv.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal(statusOf(r.text), 400, `GET ${target}: ${r.text.slice(0, 60)}`);
        assert.equal(r.closed, true, `GET ${target}: connection closed`);
      }
      const r = await exchange(srv.port, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(statusOf(r.text), 400, "OPTIONS *");
      assert.ok(await srv.alive(), "server still answers");
      const page = await fetch(srv.origin + "/some/app/route");
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<p>app<\/p>/, "SPA fallback still works");
      assert.equal((await fetch(srv.origin + "/missing.js")).status, 404);
      for (const p of ["/a/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd", "/assets/../../../etc/passwd"]) {
        const r = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.doesNotMatch(r, /root:/, `${p} stays inside the static root`);
      }
    }));
});

describe("framing (issue 13 item 5)", () => {
  test("duplicate Content-Length, Content-Length with Transfer-Encoding, other codings → 400 and close", () =>
    withServer(async (srv) => {
      const cases = {
        "two equal Content-Length": "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "two different Content-Length": "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
        "Content-Length then Transfer-Encoding": "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "Transfer-Encoding then Content-Length": "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "two Transfer-Encoding": "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "Transfer-Encoding gzip": "Transfer-Encoding: gzip\r\n\r\n",
        "Transfer-Encoding gzip, chunked": "Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "Content-Length list": "Content-Length: 3, 3\r\n\r\nabc",
      };
      for (const [label, rest] of Object.entries(cases)) {
        // A second request behind it must never be answered (no smuggling).
        const smuggled = "GET /auth/csrf HTTP/1.1\r\nHost: x\r\n\r\n";
        const r = await exchange(srv.port, `POST /auth/signin HTTP/1.1\r\nHost: x\r\n${rest}${smuggled}`);
        assert.equal(statusOf(r.text), 400, `${label}: ${r.text.slice(0, 60)}`);
        assert.equal(r.closed, true, `${label}: connection closed`);
        assert.equal((r.text.match(/HTTP\/1\.1 /g) || []).length, 1, `${label}: one answer only`);
      }
      // One Content-Length, or chunked alone, is fine.
      const ok1 = await rawRequest(srv.port, "POST /auth/signin HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
      assert.equal(statusOf(ok1), 302);
      const ok2 = await rawRequest(srv.port, "POST /auth/signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
      assert.equal(statusOf(ok2), 302);
      assert.ok(await srv.alive());
    }));

  test("a Content-Length over 64 KiB is a 413 before any body is sent", () =>
    withServer(async (srv) => {
      const r = await exchange(srv.port, "POST /auth/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 70000\r\n\r\n");
      assert.equal(statusOf(r.text), 413, r.text.slice(0, 60));
      assert.equal(r.closed, true, "connection closed");
      const chunked = "x".repeat(8000);
      let body = "";
      for (let i = 0; i < 10; i++) body += `${chunked.length.toString(16)}\r\n${chunked}\r\n`;
      const r2 = await exchange(srv.port, `POST /auth/signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}0\r\n\r\n`);
      assert.equal(statusOf(r2.text), 413, "chunked body over the limit");
      assert.ok(await srv.alive());
    }));
});

describe("slow clients and deadlines", () => {
  test("200 connections trickling headers do not stall another client's session checks", { timeout: 120_000 }, () =>
    withServer(async (srv) => {
      const c = client(srv);
      assert.equal((await c.signIn()).status, 302);
      const head = "GET /auth/session HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(100) + "\r\n\r\n";
      const slow = Array.from({ length: 200 }, () => trickle(srv.port, head, 1000));
      try {
        await sleep(1500);
        for (let i = 0; i < 20; i++) {
          const r = await c("/session", { signal: AbortSignal.timeout(10_000) });
          assert.equal(r.status, 200);
          assert.equal((await r.json()).user.email, "alice@example.com", `check ${i}`);
          await sleep(100);
        }
      } finally {
        for (const s of slow) s.destroy();
      }
      assert.ok(await srv.alive());
    }));

  test("header and body deadlines cut trickling clients; idle keep-alive connections time out", { timeout: 60_000 }, () =>
    withServer({ env: { AUTHC_HEADER_TIMEOUT: "2", AUTHC_BODY_TIMEOUT: "2", AUTHC_IDLE_TIMEOUT: "3" } }, async (srv) => {
      // Headers one byte every 300 ms would take ~30 s: cut long before.
      const h = trickle(srv.port, "GET /auth/session HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(60) + "\r\n\r\n", 300);
      const hAt = await Promise.race([h.closed, sleep(15_000).then(() => -1)]);
      h.destroy();
      assert.ok(hAt > 0, "the header trickler was disconnected");
      // Headers complete, body never finishes.
      const b = await exchange(srv.port, "POST /auth/signin HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", 15_000);
      assert.equal(b.closed, true, "the body trickler was disconnected");
      assert.equal(statusOf(b.text), 0, "no answer to an unfinished request");
      // An idle keep-alive connection after one answer.
      const idle = await exchange(srv.port, "GET /auth/csrf HTTP/1.1\r\nHost: x\r\n\r\n", 15_000);
      assert.equal(statusOf(idle.text), 200);
      assert.equal(idle.closed, true, "idle keep-alive connection closed by the server");
      assert.ok(await srv.alive());
    }));
});

describe("connection caps", () => {
  const open = (port) => new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", () => resolve(s));
  });

  // True once a new connection is answered again (the server saw the held
  // ones close), polling for up to 5 s.
  const servedAgain = async (port) => {
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const r = await exchange(port, "GET /auth/csrf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      if (statusOf(r.text) === 200) return true;
    }
    return false;
  };

  // Holds n connections to srv open and tries one more; then closes the
  // held ones and checks srv serves again. Returns the extra exchange.
  const beyondHeld = async (srv, n) => {
    const held = [];
    for (let i = 0; i < n; i++) held.push(await open(srv.port));
    await sleep(300);
    const over = await exchange(srv.port, "GET /auth/csrf HTTP/1.1\r\nHost: x\r\n\r\n");
    for (const s of held) s.destroy();
    assert.ok(await servedAgain(srv.port), "served again once connections closed");
    assert.ok(await srv.alive());
    return over;
  };

  test("AUTHC_MAX_CONNECTIONS: above it new connections are refused cleanly, below it served again", () =>
    withServer({ env: { AUTHC_MAX_CONNECTIONS: "20" } }, async (srv) => {
      const over = await beyondHeld(srv, 25);
      assert.equal(over.closed, true, "refused connection is closed");
      assert.equal(statusOf(over.text), 503, `refused with 503: ${over.text.slice(0, 60)}`);
    }));

  test("AUTHC_MAX_CONNECTIONS_PER_IP caps one address", () =>
    withServer({ env: { AUTHC_MAX_CONNECTIONS_PER_IP: "5" } }, async (srv) => {
      assert.equal(statusOf((await beyondHeld(srv, 8)).text), 503);
    }));

  test("bad values of the server settings refuse to start", async () => {
    const { runAuthc, freePort } = await import("./lib/server.mjs");
    for (const [k, v] of [["AUTHC_MAX_CONNECTIONS", "0"], ["AUTHC_IDLE_TIMEOUT", "x"], ["AUTHC_HEADER_TIMEOUT", "-1"]]) {
      const r = runAuthc(["serve", "--listen", `127.0.0.1:${await freePort()}`], { env: { [k]: v }, timeout: 5000 });
      assert.notEqual(r.status, 0, `${k}=${v}`);
      assert.match(r.stderr, new RegExp(k));
    }
  });
});
