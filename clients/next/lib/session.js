// session.js — auth() in its next-auth v5 shapes: server components and
// actions, middleware (inline or wrapping), route handlers, the pages router.
import { headers as nextHeaders, cookies } from "next/headers";
import { NextResponse } from "next/server";
import { appOrigin, call, forwarded, parseSetCookie, resolve } from "./upstream.js";

/**
 * The session of a request from authc's /session with that request's
 * cookies. Resolves to {session (or null), setCookies: [Set-Cookie lines]}.
 * Fails closed: any answer but 200 with an object is no session.
 */
export async function fetchSession(config, h, url) {
  const s = resolve(config);
  const res = await call(s, `${s.basePath}/session`, {
    headers: forwarded(appOrigin(h, url), { cookie: h.get("cookie") ?? "", accept: "application/json" }),
  });
  const setCookies = res.headers.getSetCookie();
  let session = null;
  if (res.ok) {
    const body = await res.json().catch(() => null);
    if (body && typeof body === "object" && !Array.isArray(body)) session = body;
  } else {
    await res.arrayBuffer().catch(() => {});
  }
  return { session, setCookies };
}

/** Passes re-issued cookies to the browser where Next.js allows setting them. */
async function setWhereAllowed(setCookies) {
  if (!setCookies.length) return;
  let jar;
  try { jar = await cookies(); } catch { return; }
  for (const line of setCookies) {
    const c = parseSetCookie(line);
    // Server components may not set cookies: the next action or route will.
    if (c) try { jar.set(c.name, c.value, c.options); } catch { return; }
  }
}

async function handleAuth(config, args, userFn) {
  const request = args[0];
  const { session, setCookies } = await fetchSession(config, request.headers, request.url);
  let authorized = true;
  if (config.callbacks?.authorized) authorized = await config.callbacks.authorized({ request, auth: session });
  let response = NextResponse.next?.();
  if (authorized instanceof Response) {
    response = authorized;
  } else if (userFn) {
    request.auth = session;
    response = (await userFn(request, args[1])) ?? NextResponse.next();
  } else if (!authorized) {
    const signInPage = config.pages?.signIn ?? `${resolve(config).basePath}/signin`;
    if (request.nextUrl.pathname !== signInPage) {
      const to = request.nextUrl.clone();
      to.pathname = signInPage;
      to.search = "";
      to.searchParams.set("callbackUrl", request.nextUrl.href);
      response = NextResponse.redirect(to);
    }
  }
  const final = new Response(response?.body, response);
  for (const c of setCookies) final.headers.append("set-cookie", c);
  return final;
}

/** auth(): with no argument, a Request, a wrapped handler, or pages-router (req, res) / {req, res}. */
export function makeAuth(config) {
  return (...args) => {
    if (!args.length) {
      return (async () => {
        const h = await nextHeaders();
        const { session, setCookies } = await fetchSession(config, h);
        await setWhereAllowed(setCookies);
        return session;
      })();
    }
    if (args[0] instanceof Request) return handleAuth(config, args);
    if (typeof args[0] === "function") {
      const userFn = args[0];
      return (...inner) => handleAuth(config, inner, userFn);
    }
    const request = "req" in args[0] ? args[0].req : args[0];
    const response = "res" in args[0] ? args[0].res : args[1];
    return fetchSession(config, new Headers(request.headers), `http://${request.headers?.host ?? "localhost"}`)
      .then(({ session, setCookies }) => {
        for (const c of setCookies)
          if ("headers" in response && response.headers instanceof Headers) response.headers.append("set-cookie", c);
          else response.appendHeader("set-cookie", c);
        return session;
      });
  };
}
