// mint.mjs — mints the session cookies the bench sends, with @auth/core's own
// encode() and AUTH_SECRET, so both servers must really decrypt them.
//
// Usage: AUTH_SECRET=… node mint.mjs OUTDIR
// Writes OUTDIR/cookie-jwt (one session cookie, a credentials sign-in's
// claims), OUTDIR/cookie-large (a ~6 KB token split into Auth.js
// chunks .0, .1, …) and OUTDIR/cookie-3chunk (~10 KB in three chunks),
// each a ready `Cookie:` header value; with MINT_POOL=N also OUTDIR/cookie-pool:
// N session cookies of N different users (sub "u1"…), one per line, for
// the store-* cases (bench/rotate.lua).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { encode } from "@auth/core/jwt";

const secret = process.env.AUTH_SECRET;
const out = process.argv[2];
if (!secret || !out) {
  console.error("usage: AUTH_SECRET=… node mint.mjs OUTDIR");
  process.exit(2);
}
const NAME = "authjs.session-token"; // http origin: no __Secure- prefix
const CHUNK = 3936; // Auth.js: 4096 bytes per cookie minus an empty cookie's 160
const maxAge = 2592000;

const base = { name: "Alice Example", email: "alice@example.com", picture: null, sub: "1" };
const small = await encode({ token: base, secret, salt: NAME, maxAge });
// A session with application claims (e.g. group memberships) large enough
// to need two cookie chunks.
const groups = Array.from({ length: 200 }, (_, i) => `group-${String(i).padStart(3, "0")}-${"x".repeat(12)}`);
const chunked = async (n) => {
  const claims = { ...base, groups: Array.from({ length: n }, (_, i) => `group-${String(i).padStart(3, "0")}-${"x".repeat(12)}`) };
  const tok = await encode({ token: claims, secret, salt: NAME, maxAge });
  const chunks = [];
  for (let i = 0; i * CHUNK < tok.length; i++) chunks.push(`${NAME}.${i}=${tok.slice(i * CHUNK, (i + 1) * CHUNK)}`);
  return { tok, chunks };
};
const large = await chunked(groups.length);
if (large.chunks.length < 2) throw new Error("large token did not need chunks");
// The idle test's "three-chunk session on a new connection" (~10 KB of cookies).
const three = await chunked(300);
if (three.chunks.length !== 3) throw new Error(`three-chunk token has ${three.chunks.length} chunks`);
writeFileSync(path.join(out, "cookie-jwt"), `${NAME}=${small}`);
writeFileSync(path.join(out, "cookie-large"), large.chunks.join("; "));
writeFileSync(path.join(out, "cookie-3chunk"), three.chunks.join("; "));
const pool = Number(process.env.MINT_POOL || 0);
if (pool > 0) {
  const lines = [];
  for (let i = 1; i <= pool; i++)
    lines.push(`${NAME}=${await encode({ token: { ...base, sub: `u${i}` }, secret, salt: NAME, maxAge })}`);
  writeFileSync(path.join(out, "cookie-pool"), lines.join("\n") + "\n");
  writeFileSync(path.join(out, "cookie-pool-first"), lines[0]);
}
console.log(`minted: session token ${small.length} chars; large token ${large.tok.length} chars in ${large.chunks.length} chunks; ` +
  `three-chunk token ${three.tok.length} chars${pool > 0 ? `; a pool of ${pool} sessions` : ""}`);
