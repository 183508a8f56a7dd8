// index.d.ts — types of @authc/next: the call shapes of next-auth v5's
// NextAuth() result, with the session as authc's /session returns it.
import type { NextFetchEvent, NextMiddleware, NextRequest, NextResponse } from "next/server";
import type { GetServerSidePropsContext, NextApiRequest, NextApiResponse } from "next";

type Awaitable<T> = T | PromiseLike<T>;

/** A user as the session carries it (augment with `declare module "@authc/next"`). */
export interface User {
  id?: string;
  name?: string | null;
  email?: string | null;
  image?: string | null;
}

/** authc's /session answer: the user and the ISO expiry, plus whatever authc adds. */
export interface Session {
  user?: User;
  expires: string;
}
export type DefaultSession = Session;

export interface AuthCConfig {
  /** authc's origin, e.g. "http://127.0.0.1:3000" (no path). Default: process.env.AUTHC_URL, read at call time. */
  url?: string;
  /** Where the app mounts app/api/auth/[...nextauth] and authc serves (AUTHC_BASE_PATH). Default "/api/auth". */
  basePath?: string;
  /** How long one request to authc may take, in ms. Default 30000. */
  timeoutMs?: number;
  /** Where middleware sends visitors `authorized` refuses. Default `${basePath}/signin`. */
  pages?: { signIn?: string };
  callbacks?: {
    /** Middleware only: true lets the request through, false redirects to the sign-in page, a Response is used as is. */
    authorized?: (params: { request: NextRequest; auth: Session | null }) => Awaitable<boolean | NextResponse | Response | undefined>;
  };
}

export interface NextAuthRequest extends NextRequest {
  auth: Session | null;
}
export type NextAuthMiddleware = (request: NextAuthRequest, event: NextFetchEvent) => ReturnType<NextMiddleware>;
export type AppRouteHandlerFnContext = { params: Promise<any> };
export type AppRouteHandlerFn = (req: NextRequest, ctx: AppRouteHandlerFnContext) => void | Response | Promise<void | Response>;
type AppRouteHandlers = Record<"GET" | "POST", (req: NextRequest) => Promise<Response>>;

export interface AuthCResult {
  /** `export const { GET, POST } = handlers` in app/api/auth/[...nextauth]/route.ts. */
  handlers: AppRouteHandlers;
  /** The current request's session (authc's /session), or null; or middleware / a route handler wrapper. */
  auth: ((...args: [NextApiRequest, NextApiResponse]) => Promise<Session | null>) &
    ((...args: []) => Promise<Session | null>) &
    ((...args: [GetServerSidePropsContext]) => Promise<Session | null>) &
    ((...args: [(req: NextAuthRequest, ctx: AppRouteHandlerFnContext) => ReturnType<AppRouteHandlerFn>]) => AppRouteHandlerFn) &
    ((...args: [NextAuthMiddleware]) => NextMiddleware);
  /**
   * In a server action: signs in with `provider` (the built-in page without
   * one) and redirects; with `redirect: false` resolves to the URL instead.
   * Throws CredentialsSignin (and the other AuthError types) as next-auth does.
   */
  signIn: <P extends string, R extends boolean = true>(
    provider?: P,
    options?: FormData | ({ redirectTo?: string; redirect?: R } & Record<string, any>),
    authorizationParams?: string[][] | Record<string, string> | string | URLSearchParams,
  ) => Promise<R extends false ? any : never>;
  /** In a server action: ends the session and redirects; with `redirect: false` resolves to `{ redirect }`. */
  signOut: <R extends boolean = true>(options?: { redirectTo?: string; redirect?: R }) => Promise<R extends false ? any : never>;
  /** In a server action: POST /session with `data` (authc's update); resolves to the new session or null. */
  unstable_update: (data: Partial<Session | { user: Partial<Session["user"]> }>) => Promise<Session | null>;
}

export default function AuthC(config?: AuthCConfig): AuthCResult;

/** The errors signIn/signOut throw, named and typed as @auth/core's. */
export class AuthError extends Error {
  type: string;
  kind: "signIn" | "error";
  constructor(message?: string | Error | ErrorOptions, options?: ErrorOptions);
}
export class SignInError extends AuthError {}
export class CredentialsSignin extends SignInError {
  /** What authc's redirect carried (`code=`), "credentials" by default. */
  code: string;
  static type: "CredentialsSignin";
}
export class OAuthAccountNotLinked extends SignInError {}
export class OAuthCallbackError extends SignInError {}
export class OAuthSignInError extends SignInError {}
export class EmailSignInError extends SignInError {}
export class MissingCSRF extends SignInError {}
export class AccountNotLinked extends SignInError {}
export class AccessDenied extends AuthError {}
export class Verification extends AuthError {}
export class WebAuthnVerificationError extends AuthError {}
export class SignOutError extends AuthError {}
/** authc unreachable, an unexpected answer, AUTHC_URL unset, or authc's "Configuration" error. */
export class Configuration extends AuthError {}
/** The error class for an Auth.js error type (unknown types give Configuration). */
export function errorFor(type: string, code?: string | null): AuthError;
