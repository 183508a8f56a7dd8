// apps-browser.mjs — Debian chromium driven by playwright-core for the app
// tests (never `playwright install`), and screenshots that are checked:
// the DOM text at the moment of the shot and ink where that text is drawn.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { decodePng, regionStats } from "./apps-png.mjs";
import { closeProfile } from "./chromium-close.mjs";
import { repoRoot } from "./server.mjs";

export const CHROMIUM = process.env.AUTHC_CHROMIUM || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
export const VIEWPORT = { width: 1000, height: 760 };

// Why the browser tests cannot run here, or null.
export function browserProblem() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found: apt-get install chromium (scripts/deps.sh test does)`;
  const fc = spawnSync("fc-list", [":lang=zh", "family"], { encoding: "utf8" });
  if (fc.status !== 0 || !fc.stdout.trim())
    return "no Chinese font for the screenshots: apt-get install fonts-wqy-microhei";
  return null;
}

// A fresh profile (own --user-data-dir) in a headless chromium; its pages
// are tabs of one browser, sharing cookies and BroadcastChannel.
export async function launchBrowser() {
  const problem = browserProblem();
  if (problem) throw new Error(problem);
  const dir = mkdtempSync(path.join(os.tmpdir(), "authc-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: VIEWPORT, locale: "zh-CN", timeout: 30000,
  });
  context.setDefaultTimeout(15000);
  return {
    context,
    // Between tests: no cookies and no open tab.
    async reset() {
      await context.clearCookies();
      for (const p of context.pages()) await p.close();
    },
    close: () => closeProfile(context, dir),
  };
}

// Where screenshots go: AUTHC_SCREENSHOT_DIR, else a temp dir. With
// AUTHC_UPDATE_DOCS_IMG=1 they are also copied to docs/img/ (what the docs show).
const shotDir = process.env.AUTHC_SCREENSHOT_DIR || path.join(os.tmpdir(), "authc-e2e-screenshots");

// Takes a screenshot of the page and checks it: `selector`'s text equals
// `text` right before and right after the shot, the image is the viewport's
// size, and the text's box on the image holds dark "ink" pixels in several
// shades (drawn glyphs, not an empty or flat area). Returns the file path.
export async function checkedScreenshot(page, name, { selector, text }) {
  const el = page.locator(selector);
  await el.waitFor({ state: "visible" });
  assert.equal((await el.textContent()).trim(), text, `${name}: text before the screenshot`);
  const box = await el.boundingBox();
  const png = await page.screenshot({ type: "png" });
  assert.equal((await el.textContent()).trim(), text, `${name}: text after the screenshot`);
  const img = decodePng(png);
  const scale = img.width / VIEWPORT.width;
  assert.equal(img.height, Math.round(VIEWPORT.height * scale), `${name}: screenshot size`);
  const st = regionStats(img, box, scale);
  assert.ok(st.ink >= 40, `${name}: the text "${text}" is not drawn where the DOM puts it (${st.ink} ink pixels)`);
  assert.ok(st.colours >= 3, `${name}: the text box is flat (${st.colours} colours)`);
  const whole = regionStats(img, { x: 0, y: 0, width: VIEWPORT.width, height: VIEWPORT.height }, scale);
  assert.ok(whole.colours >= 8, `${name}: the page looks blank`);
  mkdirSync(shotDir, { recursive: true });
  const file = path.join(shotDir, `${name}.png`);
  writeFileSync(file, png);
  if (process.env.AUTHC_UPDATE_DOCS_IMG === "1") {
    mkdirSync(path.join(repoRoot, "docs/img"), { recursive: true });
    copyFileSync(file, path.join(repoRoot, "docs/img", `${name}.png`));
  }
  return file;
}

// Waits until `sel`'s trimmed text is exactly `text`; the failure names what it was.
export async function expectText(page, sel, text, timeout = 10000) {
  try {
    await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent.trim() === t, [sel, text], { timeout });
  } catch {
    const now = await page.locator(sel).first().textContent({ timeout: 1000 }).catch(() => "<absent>");
    assert.fail(`${sel}: expected "${text}", found "${now?.trim()}" at ${page.url()}`);
  }
}

// Waits until the page is at `pathname`; the failure names where it is.
export async function expectPath(page, pathname, timeout = 10000) {
  try {
    await page.waitForURL((u) => u.pathname === pathname, { timeout });
  } catch {
    assert.fail(`expected to be at ${pathname}, at ${page.url()}`);
  }
}

// Signs in on authc's built-in page (whatever page the browser is on).
export async function signInOnBuiltInPage(page, username, password) {
  const form = page.locator('form[action$="/callback/credentials"]');
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  await form.locator('button[type="submit"]').click();
}

// On the built-in sign-in page at `at` (reached with the `query` parameters,
// e.g. its callbackUrl): signs `user` in and expects to land at `back`
// with `selector` showing `text` (each wait up to `timeout` ms).
export async function signInFromBuiltInPage(page, { at, query, user, back, selector, text, timeout = 10000 }) {
  await expectPath(page, at, timeout);
  const q = new URL(page.url()).searchParams;
  for (const [k, v] of Object.entries(query)) assert.equal(q.get(k), v, `${k} of ${page.url()}`);
  await signInOnBuiltInPage(page, user.username, user.password);
  await expectPath(page, back, timeout);
  await expectText(page, selector, text, timeout);
}
