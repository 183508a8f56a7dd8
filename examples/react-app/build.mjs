// build.mjs — bundles the React example with esbuild into dist/ (or argv[2]):
// hashed assets/app-*.js, index.html and /authc.js; swaps the output in atomically.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, "dist"));
const tmp = `${outdir}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });

try {
  const result = await esbuild.build({
    entryPoints: { app: path.join(here, "src/main.jsx") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2020"],
    jsx: "automatic",
    minify: true,
    sourcemap: "linked",
    outdir: tmp,
    entryNames: "assets/[name]-[hash]",
    metafile: true,
    logLevel: "warning",
    // next-auth/react reads process.env the Next.js way. Outside Next.js the
    // bundler provides it: production React, and no NEXTAUTH_URL — the base
    // path is given to <SessionProvider basePath="/auth"> instead.
    define: {
      "process.env.NODE_ENV": JSON.stringify("production"),
      "process.env.NEXTAUTH_URL": "undefined",
      "process.env.NEXTAUTH_URL_INTERNAL": "undefined",
      "process.env.VERCEL_URL": "undefined",
    },
  });
  const js = Object.keys(result.metafile.outputs).find((f) => f.endsWith(".js"));
  if (!js) throw new Error("esbuild produced no JavaScript bundle");
  const rel = "/" + path.relative(tmp, path.resolve(js)).split(path.sep).join("/");
  const html = readFileSync(path.join(here, "index.html"), "utf8").replace("%APP_JS%", rel);
  writeFileSync(path.join(tmp, "index.html"), html);
  // The framework-free client rides along, so `make run` serves /authc.js too.
  copyFileSync(path.join(here, "../js-client/authc.js"), path.join(tmp, "authc.js"));
  rmSync(outdir, { recursive: true, force: true });
  renameSync(tmp, outdir);
  console.log(`react-app: built ${path.relative(process.cwd(), outdir) || "."} (${rel})`);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`react-app: build failed: ${e.message}`);
  process.exit(1);
}
