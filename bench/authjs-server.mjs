// authjs-server.mjs — the Auth.js side of `make bench`: @auth/core's Auth()
// behind a plain node:http server (no framework), configured like `authc serve`.
//
// Usage: node authjs-server.mjs --port N [--cluster N] [--database postgres://…]
//                               [--pool N]
// Environment: AUTH_SECRET (required, the same as authc's).
//   --cluster N   N worker processes (node:cluster, round-robin); 0 = one process
//   --database    database sessions through @auth/pg-adapter (no providers, as
//                 authc without a users file); without it JWT sessions and the
//                 credentials provider, as authc with AUTHC_USERS_FILE
//   --pool N      pg pool size (default 4, authc's postgres pool_size default)
// Listens on 127.0.0.1 only. Stops on SIGTERM/SIGINT.
import cluster from "node:cluster";
import http from "node:http";
import { Auth } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";

function args() {
  const out = { port: 0, cluster: 0, database: "", pool: 4 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i].replace(/^--/, "");
    if (!(k in out) || i + 1 >= a.length) throw new Error(`bad option ${a[i]}`);
    out[k] = typeof out[k] === "number" ? Number(a[++i]) : a[++i];
  }
  if (!out.port) throw new Error("--port is required");
  return out;
}

const opt = args();
const secret = process.env.AUTH_SECRET;
if (!secret || secret.length < 32) {
  console.error("authjs-server: AUTH_SECRET (>= 32 characters) is required");
  process.exit(2);
}

async function config() {
  const cfg = {
    secret,
    trustHost: true,
    basePath: "/auth",
    providers: [],
    // Same defaults as authc: 30 days, update every 24 h.
    session: { maxAge: 2592000, updateAge: 86400 },
    logger: {
      error: (e) => console.error("[auth][error]", e?.type || e?.name || String(e)),
      warn: (c) => console.error("[auth][warn]", c),
      debug: () => {},
    },
  };
  if (opt.database) {
    const { default: pg } = await import("pg");
    const { default: PostgresAdapter } = await import("@auth/pg-adapter");
    const pool = new pg.Pool({ connectionString: opt.database, max: opt.pool });
    cfg.adapter = PostgresAdapter(pool);
    cfg.session.strategy = "database";
  } else {
    cfg.session.strategy = "jwt";
    cfg.providers.push(
      Credentials({
        credentials: { username: { label: "Username" }, password: { label: "Password", type: "password" } },
        // Never reached: the bench only times GET routes, and sessions
        // are minted up front. Refuses everyone rather than pretend.
        async authorize() {
          return null;
        },
      }),
    );
  }
  return cfg;
}

// Node request → Web Request (what every framework integration does).
function toRequest(req, body) {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const url = `http://${req.headers.host || "127.0.0.1"}${req.url}`;
  const init = { method: req.method, headers };
  if (body && body.length && req.method !== "GET" && req.method !== "HEAD") init.body = body;
  return new Request(url, init);
}

async function serve() {
  const cfg = await config();
  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > 65536) req.destroy();
      else chunks.push(c);
    });
    req.on("end", async () => {
      try {
        const r = await Auth(toRequest(req, Buffer.concat(chunks)), cfg);
        const headers = {};
        r.headers.forEach((v, k) => {
          if (k !== "set-cookie") headers[k] = v;
        });
        const cookies = r.headers.getSetCookie();
        if (cookies.length) headers["set-cookie"] = cookies;
        const buf = Buffer.from(await r.arrayBuffer());
        headers["content-length"] = String(buf.length);
        res.writeHead(r.status, headers);
        res.end(buf);
      } catch (e) {
        console.error("authjs-server:", e);
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("error\n");
      }
    });
  });
  // Idle keep-alive connections live as long as authc's (120 s), so the
  // 10k idle case measures the same thing on both.
  server.keepAliveTimeout = 120000;
  server.headersTimeout = 125000;
  server.listen(opt.port, "127.0.0.1");
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (opt.cluster > 0 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  for (let i = 0; i < opt.cluster; i++) cluster.fork();
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 2000).unref();
  };
  cluster.on("exit", () => {
    if (stopping && Object.keys(cluster.workers).length === 0) process.exit(0);
  });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  serve().catch((e) => {
    console.error("authjs-server:", e);
    process.exit(1);
  });
}
