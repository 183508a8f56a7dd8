// passkey-record.mjs — records real WebAuthn ceremonies from Chromium's
// virtual authenticators into tests/unit/fixtures/webauthn/*.json, the inputs
// of tests/unit/providers/test_webauthn.c. Run by hand (not a test):
//   node tests/e2e/lib/passkey-record.mjs [outdir]
// It serves one blank page on http://localhost:<port>/ (loopback only),
// drives navigator.credentials with fixed-shape options and stores each
// ceremony's options (challenge) and credential JSON.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { addAuthenticator, CEREMONY_JS, launchBrowser } from "./passkey-browser.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] || path.resolve(here, "../../unit/fixtures/webauthn");

const b64u = (buf) => Buffer.from(buf).toString("base64url");

function regOptions({ uv = "required", rk = "required", attestation = "none", email, algs = [-8, -7, -257] }) {
  return {
    challenge: b64u(randomBytes(32)),
    rp: { name: "authc fixtures", id: "localhost" },
    user: { id: randomBytes(32).toString("hex"), name: email, displayName: email },
    pubKeyCredParams: algs.map((alg) => ({ alg, type: "public-key" })),
    timeout: 300000,
    attestation,
    excludeCredentials: [],
    authenticatorSelection: { residentKey: rk, userVerification: uv, requireResidentKey: rk === "required" },
    extensions: { credProps: true },
  };
}

function authOptions({ uv = "required", allow }) {
  const o = { challenge: b64u(randomBytes(32)), timeout: 300000, userVerification: uv, rpId: "localhost" };
  if (allow) o.allowCredentials = allow;
  return o;
}

const PLATFORM = { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true };

// pubKeyCredParams pick the key type: Chromium's authenticator takes the
// first algorithm it supports.
const GROUPS = [
  {
    name: "eddsa-none",
    about: "platform passkey (ctap2, internal, resident key, UV), EdDSA key, attestation none, then three discoverable sign-ins",
    authenticator: PLATFORM,
    reg: { email: "fixture-eddsa@example.com" },
    auths: [{}, {}, {}],
  },
  {
    name: "es256-none",
    about: "platform passkey, ES256 key, attestation none, then two sign-ins (the second with allowCredentials)",
    authenticator: PLATFORM,
    reg: { email: "fixture-es256@example.com", algs: [-7] },
    auths: [{}, { allow: true }],
  },
  {
    name: "rs256-none",
    about: "platform passkey, RS256 key, attestation none, then one sign-in",
    authenticator: PLATFORM,
    reg: { email: "fixture-rs256@example.com", algs: [-257] },
    auths: [{}],
  },
  {
    name: "es256-packed",
    about: "passkey on a USB ctap2 key asked for attestation direct (packed with an x5c certificate), ES256, then one sign-in",
    authenticator: { ...PLATFORM, transport: "usb" },
    reg: { email: "fixture-packed@example.com", attestation: "direct", algs: [-7] },
    auths: [{ allow: true }],
  },
  {
    name: "no-uv",
    about: "security key without user verification (non-resident credential), ES256: registration and sign-in with userVerification discouraged (UV flag clear)",
    authenticator: { protocol: "ctap2", transport: "usb", hasResidentKey: true, hasUserVerification: false, isUserVerified: false, automaticPresenceSimulation: true },
    reg: { email: "fixture-nouv@example.com", uv: "discouraged", rk: "discouraged", algs: [-7] },
    auths: [{ uv: "discouraged", allow: true }],
  },
  {
    name: "u2f",
    about: "U2F security key (protocol u2f): attestation direct gives fido-u2f; one sign-in with allowCredentials",
    authenticator: { protocol: "u2f", transport: "usb", hasResidentKey: false, hasUserVerification: false, isUserVerified: false, automaticPresenceSimulation: true },
    reg: { email: "fixture-u2f@example.com", uv: "discouraged", rk: "discouraged", attestation: "direct" },
    auths: [{ uv: "discouraged", allow: true }],
  },
];

async function main() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!DOCTYPE html><title>fixtures</title><p>recording</p>");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://localhost:${server.address().port}`;
  const browser = await launchBrowser();
  mkdirSync(outDir, { recursive: true });
  try {
    for (const g of GROUPS) {
      const page = await browser.newPage();
      await page.goto(origin + "/");
      await page.addScriptTag({ content: CEREMONY_JS });
      const auth = await addAuthenticator(page, g.authenticator);
      const options = regOptions(g.reg);
      const credential = await page.evaluate((o) => window.__wa.create(o), options);
      const record = {
        about: g.about,
        recorded: `${await page.evaluate(() => navigator.userAgent)}; CDP WebAuthn.addVirtualAuthenticator`,
        authenticator: g.authenticator,
        origin,
        rpId: "localhost",
        registration: { challenge: options.challenge, options, credential },
        authentications: [],
      };
      for (const a of g.auths) {
        const ao = authOptions({ uv: a.uv, allow: a.allow ? [{ id: credential.id, type: "public-key" }] : undefined });
        const cred = await page.evaluate((o) => window.__wa.get(o), ao);
        record.authentications.push({ challenge: ao.challenge, options: ao, credential: cred });
      }
      await auth.remove();
      await page.close();
      const file = path.join(outDir, `${g.name}.json`);
      writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
      console.log(`recorded ${file}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

await main();
