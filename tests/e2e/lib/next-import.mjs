// next-import.mjs — imports @authc/next (and next/server) outside a Next.js
// build, for the tests of auth()'s middleware, route and pages-router shapes.
import { register } from "node:module";

register("./next-hooks.mjs", import.meta.url);

export const { default: AuthC, CredentialsSignin, AuthError } = await import("@authc/next");
export const { NextRequest } = await import("next/server");
