// report.mjs — turns one `make bench` results directory (TSV files written by
// bench/run.sh) into the printed Markdown: the side-by-side table, the idle
// connections, the microbenchmarks beside the crypto floor, and the targets.
//
// Usage: node report.mjs RESULTS_DIR   (prints Markdown on stdout)
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node report.mjs RESULTS_DIR");
  process.exit(2);
}

function tsv(name) {
  const f = path.join(dir, name);
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t"));
}
function table(name) {
  const [head, ...rows] = tsv(name);
  if (!head) return [];
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtInt = (x) => (Number.isFinite(x) && x > 0 ? Math.round(x).toLocaleString("en-US") : "—");
const fmtMs = (x) => (!Number.isFinite(x) || x <= 0 ? "—" : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());
const fmtMB = (kb) => (Number.isFinite(kb) && kb > 0 ? (kb / 1024).toFixed(1) : "—");
const fmtX = (x) => (Number.isFinite(x) && x > 0 ? `${x.toFixed(1)}×` : "—");
const fmtPct = (x) => (Number.isFinite(x) && x > 0 ? `${Math.round(x * 100)}%` : "—");

const meta = Object.fromEntries(tsv("meta.tsv").map(([k, v]) => [k, v]));
const rows = table("results.tsv");

// Medians per (case, conns, server). A server that answered wrongly has
// run = 0 and counts as failed.
const groups = new Map();
for (const r of rows) {
  const k = `${r.case}|${r.conns}|${r.server}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
function stat(cs, conns, server) {
  const g = groups.get(`${cs}|${conns}|${server}`);
  if (!g) return null;
  if (g.some((r) => r.run === "0")) return { failed: true };
  const num = (f) => g.map((r) => Number(r[f]));
  return {
    rps: median(num("rps")),
    p50: median(num("p50_ms")),
    p99: median(num("p99_ms")),
    cpu: median(num("cpu_us_per_req")),
    db: median(num("db_cpu_us_per_req")),
    hwm: Math.max(...num("hwm_kb")),
    rss: median(num("rss_kb")),
    errors: num("errors").reduce((a, b) => a + b, 0),
    others: Math.max(...num("others_pct")),
    bytes: Number(g[0].resp_bytes),
    runs: g.length,
  };
}

const CASES = [
  ["session-jwt", "GET /auth/session, valid JWT cookie"],
  ["store-memory", "GET /auth/session, a pool of JWTs of different users in turn, revocation check on the memory store"],
  ["store-sqlite", "the same, on an SQLite store"],
  ["store-redis", "the same, on a Redis store"],
  ["store-postgres", "the same, on a PostgreSQL store"],
  ["forward-jwt", "GET /auth/forward (nginx auth_request), valid JWT cookie: forward-auth decisions"],
  ["session-none", "GET /auth/session, no cookie"],
  ["session-large", "GET /auth/session, chunked large JWT (2 cookies)"],
  ["csrf", "GET /auth/csrf"],
  ["providers", "GET /auth/providers"],
  ["signin", "GET /auth/signin (HTML page)"],
  ["db-sqlite", "GET /auth/session, database session, SQLite"],
  ["db-postgres", "GET /auth/session, database session, PostgreSQL"],
];
const present = [...new Set(rows.map((r) => `${r.case}|${r.conns}`))];
const order = (k) => {
  const [cs, c] = k.split("|");
  const i = CASES.findIndex(([n]) => n === cs);
  return (i < 0 ? 99 : i) * 100000 + Number(c);
};
present.sort((a, b) => order(a) - order(b));

const out = [];
const p = (s = "") => out.push(s);
const ncl = meta.ncpu || "N";

p("## authc vs Auth.js — `make bench`");
p();
p(`Machine: ${meta.cpu || "?"}, ${meta.ncpu || "?"} CPUs, ${meta.mem || "?"}, ${meta.os || "?"}, kernel ${meta.kernel || "?"}.`);
p(`Software: authc ${meta.authc || "?"}; ${meta.authjs || "?"} on node ${meta.node || "?"}; ${meta.nginx || "nginx ?"}; ${meta.wrk || "wrk"}; PostgreSQL ${meta.postgres || "?"}; ${meta.openssl || "?"}.`);
p(`Method: ${meta.method || "?"}; ${meta.pinning || "?"}; wrk -t1 keep-alive. Run at ${meta.date || "?"}.`);
p();
p(`| case | conns | authc req/s | Auth.js req/s (1 proc) | Auth.js req/s (cluster ×${ncl}) | authc ÷ Auth.js (1 proc / cluster) | nginx ceiling req/s | authc ÷ nginx | p50 / p99 ms authc | p50 / p99 ms Auth.js 1 proc · cluster · nginx | peak RSS MB authc | peak RSS MB Auth.js (1 proc / cluster) | CPU µs/req authc / Auth.js / nginx |`);
p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
const S = {};
let anyErrors = [];
for (const k of present) {
  const [cs, conns] = k.split("|");
  const label = (CASES.find(([n]) => n === cs) || [cs, cs])[1];
  const a = stat(cs, conns, "authc"), j = stat(cs, conns, "authjs"), jc = stat(cs, conns, "authjs-cluster"), n = stat(cs, conns, "nginx");
  S[k] = { a, j, jc, n };
  for (const [name, s] of [["authc", a], ["Auth.js", j], ["Auth.js cluster", jc], ["nginx", n]])
    if (s && !s.failed && s.errors > 0) anyErrors.push(`${cs} c=${conns} ${name}: ${s.errors} non-2xx/socket errors`);
  // † marks a figure whose runs kept some interference (see below).
  const rps = (s) => (!s ? "—" : s.failed ? "FAILED" : fmtInt(s.rps) + (s.others > 10 ? " †" : ""));
  const ok = (s) => s && !s.failed;
  const lat = (s) => (ok(s) ? `${fmtMs(s.p50)} / ${fmtMs(s.p99)}` : "—");
  const ratio1 = ok(a) && ok(j) ? a.rps / j.rps : NaN;
  const ratioC = ok(a) && ok(jc) ? a.rps / jc.rps : NaN;
  const dbNote = ok(a) && a.db > 0 ? ` (+DB ${a.db.toFixed(0)})` : "";
  const dbNoteJ = ok(j) && j.db > 0 ? ` (+DB ${j.db.toFixed(0)})` : "";
  p(
    `| ${label} | ${conns} | ${rps(a)} | ${cs === "db-sqlite" ? "n/a" : rps(j)} | ${cs === "db-sqlite" ? "n/a" : rps(jc)} | ${fmtX(ratio1)} / ${fmtX(ratioC)} | ${rps(n)} | ${ok(a) && ok(n) ? fmtPct(a.rps / n.rps) : "—"} | ${lat(a)} | ${lat(j)} · ${lat(jc)} · ${lat(n)} | ${ok(a) ? fmtMB(a.hwm) : "—"} | ${ok(j) ? fmtMB(j.hwm) : "—"} / ${ok(jc) ? fmtMB(jc.hwm) : "—"} | ${ok(a) ? a.cpu.toFixed(1) + dbNote : "—"} / ${ok(j) ? j.cpu.toFixed(0) + dbNoteJ : "—"} / ${ok(n) ? n.cpu.toFixed(1) : "—"} |`,
  );
}
const idle = table("idle.tsv");
for (const r of idle) r.n = Number(r.idle);
const idleOf = (s) => idle.find((r) => r.server === s);
if (idle.length) {
  const a = idleOf("authc"), j = idleOf("authjs"), n = idleOf("nginx");
  const rps = (r) => (r ? fmtInt(Number(r.rps)) : "—");
  const lat = (r) => (r ? `${fmtMs(Number(r.p50_ms))} / ${fmtMs(Number(r.p99_ms))}` : "—");
  p(
    `| ${Number(idle[0].idle).toLocaleString("en-US")} idle keep-alive connections held + 64 active on GET /auth/session (JWT) | 64 + ${Number(idle[0].idle).toLocaleString("en-US")} | ${rps(a)} | ${rps(j)} | — | ${a && j ? fmtX(Number(a.rps) / Number(j.rps)) : "—"} / — | ${rps(n)} | ${a && n ? fmtPct(Number(a.rps) / Number(n.rps)) : "—"} | ${lat(a)} | ${lat(j)} · — · ${lat(n)} | ${a ? fmtMB(Number(a.hwm_kb)) : "—"} | ${j ? fmtMB(Number(j.hwm_kb)) : "—"} / — | — |`,
  );
}
p();
p(`Ratios are authc's req/s over Auth.js's. "authc ÷ nginx": authc's req/s as a share of nginx answering a fixed 200 of the same size on the wire (status line + headers + body) on the same core. Peak RSS = VmHWM summed over the server's processes (cluster: primary + workers), read after the runs of that row from a fresh server. CPU µs/req = the server's user+system CPU time over the timed runs divided by the requests answered (PostgreSQL's own CPU in "+DB"). Medians of ${meta.method ? meta.method.replace(/.*?(\d+) runs.*/, "$1") : "the"} runs.`);
if (idle.length) {
  p();
  p("Idle connections: " + idle.map((r) => `${r.server}: ${Number(r.open).toLocaleString("en-US")} of ${Number(r.idle).toLocaleString("en-US")} held, RSS ${fmtMB(Number(r.rss_kb))} MB while idle (peak ${fmtMB(Number(r.hwm_kb))} MB), ${r.closed} closed by the server while held${r.three_chunk && r.three_chunk !== "-" ? `, three-chunk session on a new connection meanwhile: ${r.three_chunk}` : ""}`).join("; ") + ".");
}
const others = rows.filter((r) => r.run !== "0").map((r) => Number(r.others_pct)).filter(Number.isFinite);
const disturbed = others.filter((x) => x > 10).length;
p();
p(`Interference: during the ${others.length} timed runs kept, other processes on the machine used at most ${others.length ? Math.max(...others) : 0}% of a CPU (median ${others.length ? median(others) : 0}%)${disturbed ? `; ${disturbed} run(s) above 10% were kept because the retries ran out (figures marked †: read them with care)` : "; runs above 10% were repeated"}. The idle-connections row has no such check.`);
if (anyErrors.length) {
  p();
  p("Errors during timed runs: " + anyErrors.join("; ") + ".");
}

// ---- the revocation check's cost per store (issue #11) ----
{
  const one = (S["session-jwt|64"] || {}).a;
  const mem = (S["store-memory|64"] || {}).a;
  const rowsRv = ["store-memory", "store-sqlite", "store-redis", "store-postgres"].map((cs) => [cs, (S[`${cs}|64`] || {}).a]).filter(([, s]) => s);
  if (rowsRv.length) {
    p();
    p("### Revocation check per store (GET /auth/session with a JWT, 64 connections)");
    p();
    p("Every read checks the session's revocation marks in the shared store (one multi-get; a mark set is remembered in process for at most 2 s). In the store-* rows each request carries another user's session (a pool of Auth.js-minted cookies, bench/rotate.lua), so the cache misses and every request reads the store; they differ only in `AUTHC_STORE`. The first row is session-jwt: one session, the check answered from the cache. The store's own CPU is \"+DB\".");
    p();
    p("| store | req/s | vs one cached session | p99 ms | CPU µs/req authc (+store) | extra CPU µs/req vs memory |");
    p("|---|---:|---:|---:|---:|---:|");
    const okR = (s) => s && !s.failed;
    if (okR(one)) p(`| one session, cache hit (session-jwt) | ${fmtInt(one.rps)} | 100% | ${fmtMs(one.p99)} | ${one.cpu.toFixed(1)} | — |`);
    for (const [cs, s] of rowsRv) {
      if (!okR(s)) {
        p(`| ${cs.slice(6)} | FAILED | — | — | — | — |`);
        continue;
      }
      const extra = okR(mem) && cs !== "store-memory" ? (s.cpu + (s.db || 0) - mem.cpu).toFixed(1) : "—";
      p(`| ${cs.slice(6)} | ${fmtInt(s.rps)} | ${okR(one) ? fmtPct(s.rps / one.rps) : "—"} | ${fmtMs(s.p99)} | ${s.cpu.toFixed(1)}${s.db > 0 ? ` (+${s.db.toFixed(1)})` : ""} | ${extra} |`);
    }
  }
}

// ---- microbenchmarks ----
const micro = tsv("micro.tsv").filter((r) => r[0] === "micro").map(([, name, ns, bytes, note]) => ({ name, ns: Number(ns), bytes: Number(bytes), note }));
const floor = Object.fromEntries(tsv("floor.tsv").filter((r) => r[0] === "floor").map(([, name, bytes, bps]) => [name, { bytes: Number(bytes), bps: Number(bps) }]));
const fns = (f) => (f && f.bps > 0 ? (f.bytes / f.bps) * 1e9 : NaN);
const m = (n) => micro.find((x) => x.name === n);
if (micro.length) {
  p();
  p("### Microbenchmarks (ns/op, one core, median of 9 batches)");
  p();
  p("| operation | ns/op | bytes | what it does |");
  p("|---|---:|---:|---|");
  for (const x of micro) p(`| ${x.name} | ${Math.round(x.ns).toLocaleString("en-US")} | ${x.bytes || ""} | ${x.note} |`);
  const aes = fns(floor["aes-256-cbc"]), hmac = fns(floor["hmac-sha512"]), sha = fns(floor.sha512), s256 = fns(floor.sha256);
  p();
  p("Crypto floor from `openssl speed -seconds 1 -bytes N` on the same core, at the token's own sizes:");
  p();
  p("| primitive | bytes | ns/op |");
  p("|---|---:|---:|");
  if (floor["aes-256-cbc"]) p(`| AES-256-CBC encrypt (\`-evp aes-256-cbc\`) | ${floor["aes-256-cbc"].bytes} | ${Math.round(aes)} |`);
  if (floor["hmac-sha512"]) p(`| HMAC-SHA512 (\`-hmac sha512\`) | ${floor["hmac-sha512"].bytes} | ${Math.round(hmac)} |`);
  if (floor.sha512) p(`| SHA-512 (\`sha512\`) | ${floor.sha512.bytes} | ${Math.round(sha)} |`);
  if (floor.sha256) p(`| SHA-256 (\`-evp sha256\`, CSRF hash input) | ${floor.sha256.bytes} | ${Math.round(s256)} |`);
  const de = m("session_refresh") || m("session_decode_encode");
  const fl = 2 * (aes + hmac);
  if (de && Number.isFinite(fl)) {
    p();
    p(`Session decode + re-encode (${de.name}, what GET /session runs): ${Math.round(de.ns).toLocaleString("en-US")} ns vs a floor of ${Math.round(fl)} ns (2 × AES-256-CBC + 2 × HMAC-SHA512 at these sizes) = **${(de.ns / fl).toFixed(1)}×** the floor.`);
  }
}

// ---- targets ----
p();
p("### Targets (issues #8 and #14)");
p();
const tgt = [];
const get = (cs, c = "64") => S[`${cs}|${c}`] || {};
const okS = (s) => s && !s.failed && s.rps > 0;
function target(what, value, goal, cmp, fmt) {
  if (!Number.isFinite(value)) {
    tgt.push(`- ${what}: not measured`);
    return;
  }
  const met = cmp === ">=" ? value >= goal : cmp === "<=" ? value <= goal : value < goal;
  const by = cmp === ">=" ? value / goal : goal / value;
  tgt.push(`- ${what}: ${fmt(value)} (target ${cmp === ">=" ? "≥" : cmp === "<=" ? "≤" : "<"} ${fmt(goal)}) — **${met ? "met" : "MISSED"}**${met ? "" : `, reaching ${Math.round(by * 100)}% of it`}`);
}
{
  const { a, j, jc, n } = get("session-jwt");
  target("session JWT vs Auth.js 1 process", okS(a) && okS(j) ? a.rps / j.rps : NaN, 50, ">=", (x) => `${x.toFixed(1)}×`);
  target("session JWT vs Auth.js cluster", okS(a) && okS(jc) ? a.rps / jc.rps : NaN, 40, ">=", (x) => `${x.toFixed(1)}×`);
  target("session JWT vs nginx ceiling", okS(a) && okS(n) ? a.rps / n.rps : NaN, 0.6, ">=", (x) => `${Math.round(x * 100)}%`);
  target("session JWT p99 at 64 connections", okS(a) ? a.p99 : NaN, 2, "<", (x) => `${x.toFixed(2)} ms`);
  const a256 = get("session-jwt", "256").a;
  target("session JWT p99 at 256 connections", okS(a256) ? a256.p99 : NaN, 5, "<", (x) => `${x.toFixed(2)} ms`);
}
{
  // Forward-auth decisions: within 10% of GET /auth/session (issue #12).
  const f = get("forward-jwt").a, s = get("session-jwt").a;
  target("forward-auth decisions/s vs GET /auth/session", okS(f) && okS(s) ? f.rps / s.rps : NaN, 0.9, ">=", (x) => `${Math.round(x * 100)}%`);
  target("forward-auth p99 vs GET /auth/session p99", okS(f) && okS(s) ? f.p99 / s.p99 : NaN, 1.1, "<=", (x) => `${x.toFixed(2)}×`);
  const hf = m("handle_forward_jwt"), hs = m("handle_session_jwt");
  target("library: handle_forward_jwt vs handle_session_jwt", hf && hs ? hf.ns / hs.ns : NaN, 1.1, "<=", (x) => `${x.toFixed(2)}×`);
}
for (const cs of ["csrf", "providers", "session-none"]) {
  const { a, n } = get(cs);
  target(`${cs} vs nginx ceiling`, okS(a) && okS(n) ? a.rps / n.rps : NaN, 0.8, ">=", (x) => `${Math.round(x * 100)}%`);
}
for (const cs of ["csrf", "providers", "session-none"]) {
  const { a, j } = get(cs);
  target(`${cs} vs Auth.js 1 process`, okS(a) && okS(j) ? a.rps / j.rps : NaN, 15, ">=", (x) => `${x.toFixed(1)}×`);
}
{
  const { a, j } = get("db-postgres");
  target("database sessions on PostgreSQL vs Auth.js + @auth/pg-adapter", okS(a) && okS(j) ? a.rps / j.rps : NaN, 15, ">=", (x) => `${x.toFixed(1)}×`);
}
{
  const hwms = present.filter((k) => k.endsWith("|64")).map((k) => S[k].a).filter(okS).map((s) => s.hwm);
  target("authc peak RSS at 64 connections (worst case)", hwms.length ? Math.max(...hwms) / 1024 : NaN, 32, "<", (x) => `${x.toFixed(1)} MB`);
  const ia = idleOf("authc");
  target(`authc peak RSS with ${ia ? Number(ia.idle).toLocaleString("en-US") : "10,000"} idle connections`, ia ? Number(ia.hwm_kb) / 1024 : NaN, 96, "<", (x) => `${x.toFixed(1)} MB`);
  if (ia && ia.three_chunk) tgt.push(`- three-chunk session on a new connection beside the idle ones: ${ia.three_chunk} — **${ia.three_chunk === "ok" ? "met" : "MISSED"}**`);
}
{
  const de = m("session_refresh") || m("session_decode_encode");
  const fl = 2 * (fns(floor["aes-256-cbc"]) + fns(floor["hmac-sha512"]));
  target("session decode + re-encode vs crypto floor", de ? de.ns / fl : NaN, 3, "<=", (x) => `${x.toFixed(1)}×`);
  const hs = m("handle_session_jwt");
  target("library: handle_session_jwt", hs ? hs.ns / 1000 : NaN, 3, "<=", (x) => `${x.toFixed(2)} µs`);
}
for (const t of tgt) p(t);
console.log(out.join("\n"));
