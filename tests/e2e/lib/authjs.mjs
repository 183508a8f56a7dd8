// authjs.mjs — the reference peer: @auth/core 0.41.3's Auth() run in-process
// with the same credentials users and secret as the authc under test.
import { Auth } from "@auth/core";
import Credentials from "@auth/core/providers/credentials";
import { ALICE, SECRET } from "./server.mjs";

// Auth.js config equivalent to `authc serve` with a users file and JWT
// sessions. users: [{id, username, password, email, name}].
export function authjsConfig({ secret = SECRET, users = [ALICE], useSecureCookies, log } = {}) {
  const logs = log || [];
  const cfg = {
    secret,
    trustHost: true,
    basePath: "/auth",
    providers: [
      Credentials({
        credentials: { username: { label: "Username" }, password: { label: "Password", type: "password" } },
        async authorize(c) {
          const u = users.find((x) => x.username === c.username && x.password === c.password);
          if (!u) return null;
          const out = { id: u.id };
          if (u.name) out.name = u.name;
          if (u.email) out.email = u.email;
          return out;
        },
      }),
    ],
    logger: {
      error: (e) => logs.push(["error", String(e?.type || e?.name || e)]),
      warn: (c) => logs.push(["warn", c]),
      debug: () => {},
    },
  };
  if (useSecureCookies !== undefined) cfg.useSecureCookies = useSecureCookies;
  return cfg;
}

// A target for client(): requests go to Auth() at the given origin.
export function authjsTarget(origin, config = authjsConfig()) {
  return {
    origin,
    base: origin + "/auth",
    url: (p = "") => origin + "/auth" + p,
    fetch: (url, init) => Auth(new Request(url, init), config),
    config,
  };
}
