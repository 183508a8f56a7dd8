// apps-oidc.mjs — a real OpenID Connect provider (node oidc-provider) on
// loopback for the app tests: one confidential client, any login accepted
// by its development login and consent pages, a fixed profile per login.
import Provider from "oidc-provider";

export const OIDC_CLIENT = { id: "authc-apps-e2e", secret: "apps-e2e-client-secret-0123456789" };

// Starts the provider on `port`; redirectUris must list every app's
// <origin>/auth/callback/<provider id>; client: extra client metadata
// (e.g. post_logout_redirect_uris). Returns {issuer, stop()}.
export async function startOidcProvider({ port, redirectUris, profile, client = {} }) {
  const issuer = `http://127.0.0.1:${port}`;
  const oidc = new Provider(issuer, {
    clients: [{
      client_id: OIDC_CLIENT.id, client_secret: OIDC_CLIENT.secret,
      redirect_uris: redirectUris, response_types: ["code"], grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic", ...client,
    }],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, ...profile(sub) }),
    }),
    features: { devInteractions: { enabled: true } },
    // Profile claims in the ID token, where Auth.js (and authc) read them.
    conformIdTokenClaims: false,
    cookies: { keys: ["apps-e2e-cookie-key-0123456789abcdef"] },
    // Quiet: the default renders warnings for development keys on stderr.
    renderError: async (ctx, out) => { ctx.type = "json"; ctx.body = out; },
  });
  oidc.proxy = false;
  const server = await new Promise((resolve, reject) => {
    const s = oidc.listen(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
  return {
    issuer,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

// Drives oidc-provider's development login and consent pages in `page`.
export async function oidcLoginAndConsent(page, login) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  await page.locator('button[type="submit"]').click();
  // Consent ("Authorize") page, when the client has not been granted yet.
  const consent = page.locator('button[type="submit"]', { hasText: /continue|authorize/i });
  try {
    await consent.waitFor({ timeout: 5000 });
    await consent.click();
  } catch { /* no consent step */ }
}
