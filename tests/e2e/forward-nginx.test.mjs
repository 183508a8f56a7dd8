// forward-nginx.test.mjs — forward-auth behind a real Debian nginx with
// auth_request, configured as docs/deploy/nginx.md says: an upstream app
// (a tiny node server echoing the X-Auth-Request-* headers it gets) behind
// authc's decision; Chromium signs in on the page nginx sends it to and
// comes back to the original URL; rule-denied paths are 403; XHR gets 401.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { ALICE, startServer } from "./lib/server.mjs";
import { haveNginx, startNginx } from "./lib/nginx.mjs";
import { browserProblem, launchBrowser, signInOnBuiltInPage } from "./lib/apps-browser.mjs";

// The forward-auth server block of docs/deploy/nginx.md, with the test's
// ports and without TLS.
const nginxConf = (authcPort, appPort) => (port) => `
upstream authc { server 127.0.0.1:${authcPort}; keepalive 32; }
upstream app   { server 127.0.0.1:${appPort}; }

server {
    listen 127.0.0.1:${port};
    server_name app.example.com;

    location /auth/ {
        proxy_pass http://authc;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }

    location = /auth/forward {
        internal;
        proxy_pass http://authc/auth/forward;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
        proxy_set_header X-Original-Method $request_method;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }

    location / {
        auth_request /auth/forward;
        auth_request_set $auth_signin $upstream_http_location;
        error_page 401 = @signin;

        auth_request_set $user   $upstream_http_x_auth_request_user;
        auth_request_set $email  $upstream_http_x_auth_request_email;
        auth_request_set $name   $upstream_http_x_auth_request_preferred_username;
        auth_request_set $groups $upstream_http_x_auth_request_groups;
        proxy_set_header X-Auth-Request-User $user;
        proxy_set_header X-Auth-Request-Email $email;
        proxy_set_header X-Auth-Request-Preferred-Username $name;
        proxy_set_header X-Auth-Request-Groups $groups;

        auth_request_set $auth_cookie $upstream_http_set_cookie;
        add_header Set-Cookie $auth_cookie;

        proxy_pass http://app;
    }

    location @signin {
        if ($auth_signin = "") { return 401; }
        return 302 $auth_signin;
    }
}
`;

// The protected app: shows the identity headers nginx passed on.
function startUpstream() {
  const seen = [];
  const srv = http.createServer((req, res) => {
    const who = {};
    for (const [k, v] of Object.entries(req.headers)) if (k.startsWith("x-auth-request-")) who[k] = v;
    seen.push({ url: req.url, who });
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>app</title><pre id="who">${JSON.stringify({ url: req.url, who })
      .replace(/</g, "&lt;")}</pre>`);
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve({
    port: srv.address().port, seen,
    stop: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }),
  })));
}

const skip = !haveNginx() ? "nginx not installed (scripts/deps.sh test installs nginx-light)" : browserProblem() || false;

describe("forward-auth behind nginx auth_request", { skip }, () => {
  let tmp, authc, app, nginx, browser;
  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "authc-e2e-fwd-nginx-"));
    const rules = path.join(tmp, "forward.rules");
    writeFileSync(rules, "deny path=/internal\nauthenticated path=/admin groups=admins\n");
    authc = await startServer({ env: { AUTHC_FORWARD_RULES: rules } });
    app = await startUpstream();
    nginx = await startNginx(nginxConf(authc.port, app.port));
  });
  after(async () => {
    await browser?.close();
    await nginx?.stop();
    await app?.stop();
    await authc?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("without a session: XHR gets 401, a denied path 403, nothing reaches the app", async () => {
    let r = await fetch(nginx.origin + "/api/data", { headers: { "x-requested-with": "XMLHttpRequest" }, redirect: "manual" });
    assert.equal(r.status, 401);
    r = await fetch(nginx.origin + "/internal/report", { redirect: "manual" });
    assert.equal(r.status, 403);
    r = await fetch(nginx.origin + "/favicon.ico", { headers: { accept: "image/*", "sec-fetch-dest": "image" }, redirect: "manual" });
    assert.equal(r.status, 401);
    // A navigation (over node:http: fetch would say sec-fetch-mode: cors).
    const nav = await new Promise((resolve, reject) => {
      http.get(nginx.origin + "/page?a=1&b=2", { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } },
        (res) => { res.resume(); res.on("end", () => resolve(res)); }).on("error", reject);
    });
    assert.equal(nav.statusCode, 302);
    const loc = new URL(nav.headers.location, nginx.origin);
    assert.equal(loc.origin + loc.pathname, nginx.origin + "/auth/signin");
    assert.equal(loc.searchParams.get("callbackUrl"), nginx.origin + "/page?a=1&b=2");
    assert.equal(nav.headers["set-cookie"], undefined);
    assert.deepEqual(app.seen, []);
  });

  test("Chromium: sign-in page, credentials, back to the original URL; the app sees who", async () => {
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const target = nginx.origin + "/docs/page?x=1&y=two";
    await page.goto(target);
    await page.waitForURL((u) => u.pathname === "/auth/signin");
    assert.equal(new URL(page.url()).searchParams.get("callbackUrl"), target);
    // An XHR from the page before signing in: 401, not the sign-in page.
    const xhr = await page.evaluate(() => new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open("GET", "/api/data");
      x.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      x.onload = () => resolve(x.status);
      x.send();
    }));
    assert.equal(xhr, 401);
    await signInOnBuiltInPage(page, ALICE.username, ALICE.password);
    await page.waitForURL((u) => u.href === target).catch((e) => { throw new Error(`not back at ${target}: at ${page.url()}`, { cause: e }); });
    const shown = JSON.parse(await page.locator("#who").textContent());
    assert.equal(shown.url, "/docs/page?x=1&y=two");
    assert.equal(shown.who["x-auth-request-email"], ALICE.email);
    assert.equal(shown.who["x-auth-request-user"], ALICE.id);
    assert.equal(shown.who["x-auth-request-preferred-username"], ALICE.name);
    // Signed in, a rule still denies /admin (alice is in no group) and /internal.
    for (const p of ["/admin/users", "/internal"]) {
      const resp = await page.goto(nginx.origin + p);
      assert.equal(resp.status(), 403, p);
    }
    // The session keeps working (the cookie authc re-issues comes through nginx).
    const again = await page.goto(nginx.origin + "/other");
    assert.equal(again.status(), 200);
    assert.ok(app.seen.every((s) => !s.url.startsWith("/admin") && !s.url.startsWith("/internal")));
  });
});
