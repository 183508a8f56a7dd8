// errors.js — the error classes signIn/signOut throw, shaped as @auth/core's
// (name, type, kind, code, the errors.authjs.dev hint in the message).

/** Base class: `type` names the Auth.js error, `kind` is "signIn" or "error". */
export class AuthError extends Error {
  constructor(message, options) {
    super(typeof message === "string" ? message : undefined, typeof message === "string" ? options : message);
    this.name = this.constructor.name;
    this.type = this.constructor.type ?? "AuthError";
    this.kind = this.constructor.kind ?? "error";
    Error.captureStackTrace?.(this, this.constructor);
    this.message += `${this.message ? ". " : ""}Read more at https://errors.authjs.dev#${this.type.toLowerCase()}`;
  }
}

/** Errors that happen while signing in (Auth.js sends these to the sign-in page). */
export class SignInError extends AuthError {}
SignInError.kind = "signIn";

/** The credentials were refused; `code` is what authc's redirect carried ("credentials" by default). */
export class CredentialsSignin extends SignInError {
  constructor(...args) {
    super(...args);
    this.code = "credentials";
  }
}
CredentialsSignin.type = "CredentialsSignin";

const make = (type, base) => {
  const C = { [type]: class extends base {} }[type];
  C.type = type;
  return C;
};

// The types authc's error and sign-in pages can carry: Auth.js's client-safe
// ones, and "Configuration" for everything else.
export const OAuthAccountNotLinked = make("OAuthAccountNotLinked", SignInError);
export const OAuthCallbackError = make("OAuthCallbackError", SignInError);
export const OAuthSignInError = make("OAuthSignInError", SignInError);
export const EmailSignInError = make("EmailSignInError", SignInError);
export const MissingCSRF = make("MissingCSRF", SignInError);
export const AccountNotLinked = make("AccountNotLinked", SignInError);
export const AccessDenied = make("AccessDenied", AuthError);
export const Verification = make("Verification", AuthError);
export const WebAuthnVerificationError = make("WebAuthnVerificationError", AuthError);
export const SignOutError = make("SignOutError", AuthError);
/** authc could not be reached, answered something unexpected, or reported "Configuration". */
export const Configuration = make("Configuration", AuthError);

const byType = new Map([
  CredentialsSignin, OAuthAccountNotLinked, OAuthCallbackError, OAuthSignInError, EmailSignInError,
  MissingCSRF, AccountNotLinked, AccessDenied, Verification, WebAuthnVerificationError, SignOutError, Configuration,
].map((C) => [C.type, C]));

/** The error for an Auth.js error type from authc (unknown types become Configuration). */
export function errorFor(type, code) {
  const C = byType.get(type) ?? Configuration;
  const e = new C();
  if (C === CredentialsSignin && code) e.code = code;
  return e;
}
