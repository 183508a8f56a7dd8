// index.js — @authc/next: AuthC(config?) returns next-auth v5's NextAuth()
// result ({handlers, auth, signIn, signOut, unstable_update}) backed by authc.
import { makeSignIn, makeSignOut, makeUpdate } from "./lib/actions.js";
import { makeHandlers } from "./lib/handlers.js";
import { makeAuth } from "./lib/session.js";

export * from "./lib/errors.js";

/**
 * config: {url?: authc's origin (default AUTHC_URL), basePath?: "/api/auth",
 * timeoutMs?, pages?: {signIn}, callbacks?: {authorized}}. Nothing is read
 * or checked until the first call, so importing never throws. The returned
 * functions keep a reference to `config` (read again on every call).
 */
export default function AuthC(config = {}) {
  const cfg = config ?? {};
  return {
    handlers: makeHandlers(cfg),
    auth: makeAuth(cfg),
    signIn: makeSignIn(cfg),
    signOut: makeSignOut(cfg),
    unstable_update: makeUpdate(cfg),
  };
}
