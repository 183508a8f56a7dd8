// email-helpers.mjs — a real SMTP server on loopback for the email tests
// (smtp-server from npm; STARTTLS, implicit TLS, AUTH, scripted failures),
// a throwaway TLS certificate, and mail parsing with mailparser.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

// A self-signed certificate for localhost / 127.0.0.1, made with the
// openssl CLI. Returns {dir, certFile, keyFile, cert, key, cleanup()}.
export function makeCert() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-smtp-cert-"));
  const keyFile = path.join(dir, "key.pem");
  const certFile = path.join(dir, "cert.pem");
  const r = spawnSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", keyFile, "-out", certFile,
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return {
    dir, certFile, keyFile,
    cert: readFileSync(certFile), key: readFileSync(keyFile),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// Starts an SMTP server on 127.0.0.1 (ephemeral port). Options:
//   tls: {cert, key} to offer STARTTLS (or implicit TLS with secure:true)
//   secure: implicit TLS (smtps)
//   auth: {user, pass} to require AUTH PLAIN/LOGIN
//   failData: reply 554 after the message was received
//   rejectRcpt: reply 550 to RCPT TO
// Returns {port, messages, waitFor(n, ms), close()}; each message is
// {envelope, secure, user, raw, mail} with mail = mailparser's result.
export async function startSmtp(opts = {}) {
  const messages = [];
  const waiters = [];
  const server = new SMTPServer({
    secure: !!opts.secure,
    key: opts.tls?.key,
    cert: opts.tls?.cert,
    hideSTARTTLS: !opts.tls,
    authOptional: !opts.auth,
    authMethods: ["PLAIN", "LOGIN"],
    // Plain-text AUTH is fine here: the client decides whether to send it.
    allowInsecureAuth: true,
    disabledCommands: opts.auth ? [] : ["AUTH"],
    size: 1024 * 1024,
    logger: false,
    onAuth(auth, session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass)
        return cb(null, { user: auth.username });
      return cb(new Error("Invalid username or password"));
    },
    onRcptTo(address, session, cb) {
      if (opts.rejectRcpt) {
        const e = new Error("No such user here");
        e.responseCode = 550;
        return cb(e);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on("data", (d) => chunks.push(d));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks);
        const mail = await simpleParser(raw);
        messages.push({
          envelope: { from: session.envelope.mailFrom?.address, to: session.envelope.rcptTo.map((r) => r.address) },
          secure: session.secure, user: session.user, raw: raw.toString("utf8"), mail,
        });
        for (const w of waiters.splice(0)) w();
        if (opts.failData) {
          const e = new Error("Message refused after DATA");
          e.responseCode = 554;
          return cb(e);
        }
        cb();
      });
    },
  });
  server.on("error", () => { /* client disconnects in failure tests */ });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = server.server.address().port;
  return {
    port,
    messages,
    // Resolves once at least n messages arrived (or rejects after ms).
    async waitFor(n = 1, ms = 5000) {
      const deadline = Date.now() + ms;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} message(s), got ${messages.length}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
      return messages[n - 1];
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

// The sign-in link of a received message: the one URL of the text part,
// checked to be the same as the HTML button's href.
export function linkOf(msg) {
  const urls = (msg.mail.text || "").match(/https?:\/\/\S+/g) || [];
  if (urls.length !== 1) throw new Error(`expected one URL in the text part, got ${urls.length}`);
  const hrefs = [...(msg.mail.html || "").matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
  if (!hrefs.includes(urls[0])) throw new Error("the HTML button does not carry the text part's link");
  return urls[0];
}

// Extracts hidden csrfToken and the action of a confirm page.
export function confirmForm(html) {
  const action = /<form method="POST" action="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
  const csrf = /name="csrfToken" value="([0-9a-f]{64})"/.exec(html)?.[1];
  return { action, csrf };
}

// Waits until the server's stderr matches re (log lines arrive through a
// pipe, possibly after the HTTP response); returns the whole log.
export async function waitForLog(srv, re, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const log = srv.stderr();
    if (re.test(log)) return log;
    if (Date.now() > deadline) throw new Error(`log never matched ${re}:\n${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
