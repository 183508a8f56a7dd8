// passkey-browser.mjs — headless Debian Chromium (playwright-core, never a
// downloaded browser) with CDP virtual WebAuthn authenticators, for the
// passkey e2e test and the fixture recorder.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeProfile } from "./chromium-close.mjs";

export const CHROMIUM = process.env.AUTHC_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

// Why the browser cannot run here, or null when it can.
export async function browserUnavailable() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
  try {
    await import("playwright-core");
  } catch {
    return "playwright-core is not installed (npm ci at the repo root)";
  }
  return null;
}

// A fresh browser profile; returns {ctx, newPage, close}.
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-chromium-"));
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000,
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    ctx,
    async newPage() {
      const page = await ctx.newPage();
      page.setDefaultTimeout(15000);
      return page;
    },
    close: () => closeProfile(ctx, dir),
  };
}

// The platform passkey authenticator of the issue: CTAP2, internal,
// resident keys, user verification that succeeds.
export const PLATFORM_AUTHENTICATOR = {
  protocol: "ctap2", transport: "internal", hasResidentKey: true,
  hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
};

// Adds a virtual authenticator to the page's browser (CDP WebAuthn domain).
// Returns {id, cdp, credentials(), setVerified(bool), remove()}.
export async function addAuthenticator(page, options = PLATFORM_AUTHENTICATOR) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", { options });
  return {
    id: authenticatorId,
    cdp,
    async credentials() {
      return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    },
    async setVerified(isUserVerified) {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified });
    },
    async remove() {
      await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    },
  };
}

// Page-side helpers (run with page.evaluate) that turn SimpleWebAuthn-shaped
// option JSON into a ceremony and back into the JSON the server reads; the
// same conversions @simplewebauthn/browser v9 does.
export const CEREMONY_JS = `
window.__wa = (() => {
  const enc = (buf) => { const b = new Uint8Array(buf); let s = ""; for (const x of b) s += String.fromCharCode(x);
    return btoa(s).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, ""); };
  const dec = (str) => { let s = str.replace(/-/g, "+").replace(/_/g, "/"); while (s.length % 4) s += "=";
    const bin = atob(s); const out = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i); return out.buffer; };
  const desc = (d) => ({ ...d, id: dec(d.id) });
  async function create(o) {
    const publicKey = { ...o, challenge: dec(o.challenge), user: { ...o.user, id: new TextEncoder().encode(o.user.id) },
      excludeCredentials: (o.excludeCredentials || []).map(desc) };
    const c = await navigator.credentials.create({ publicKey });
    const r = c.response;
    return { id: c.id, rawId: enc(c.rawId), type: c.type,
      response: { attestationObject: enc(r.attestationObject), clientDataJSON: enc(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined,
        publicKeyAlgorithm: r.getPublicKeyAlgorithm ? r.getPublicKeyAlgorithm() : undefined,
        publicKey: r.getPublicKey && r.getPublicKey() ? enc(r.getPublicKey()) : undefined,
        authenticatorData: r.getAuthenticatorData ? enc(r.getAuthenticatorData()) : undefined },
      clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment || undefined };
  }
  async function get(o) {
    const publicKey = { ...o, challenge: dec(o.challenge) };
    if (o.allowCredentials && o.allowCredentials.length) publicKey.allowCredentials = o.allowCredentials.map(desc);
    else delete publicKey.allowCredentials;
    const c = await navigator.credentials.get({ publicKey });
    const r = c.response;
    return { id: c.id, rawId: enc(c.rawId), type: c.type,
      response: { authenticatorData: enc(r.authenticatorData), clientDataJSON: enc(r.clientDataJSON), signature: enc(r.signature),
        userHandle: r.userHandle ? new TextDecoder().decode(r.userHandle) : undefined },
      clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment || undefined };
  }
  return { create, get };
})();
`;
