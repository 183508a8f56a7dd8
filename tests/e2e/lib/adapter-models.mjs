// adapter-models.mjs — comparing what authc's adapter (via authc_adapter_cli)
// and an Auth.js adapter see of the same rows; shared by the interop tests.
import { randomUUID } from "node:crypto";
import assert from "node:assert/strict";

export const ms = (d) => (d instanceof Date ? d.getTime() : d);
// A time with a non-zero millisecond part (the point of the ms checks).
export const stamp = (offset = 0) => Math.floor((Date.now() + offset) / 1000) * 1000 + 123;

// authc user (dates in ms, null = absent) vs an Auth.js user; ids compare as
// strings (Postgres adapters return numbers).
export function sameUser(c, js, what) {
  assert.ok(c && js, `${what}: missing (${JSON.stringify(c)} / ${JSON.stringify(js)})`);
  assert.equal(String(js.id), c.id, `${what}: id`);
  assert.equal(js.name ?? null, c.name, `${what}: name`);
  assert.equal(js.email ?? null, c.email, `${what}: email`);
  assert.equal(js.image ?? null, c.image, `${what}: image`);
  if (js.emailVerified != null) assert.ok(js.emailVerified instanceof Date, `${what}: emailVerified is not a Date`);
  assert.equal(js.emailVerified == null ? null : ms(js.emailVerified), c.emailVerified, `${what}: emailVerified`);
}

export function sameAccount(c, js, what) {
  assert.ok(c && js, `${what}: missing`);
  for (const k of ["type", "provider", "providerAccountId", "access_token", "refresh_token", "id_token", "token_type", "scope", "session_state"])
    assert.equal(js[k] ?? null, c[k], `${what}: ${k}`);
  assert.equal(String(js.userId), c.userId, `${what}: userId`);
  assert.equal(js.expires_at == null ? null : Number(js.expires_at), c.expires_at, `${what}: expires_at`);
}

// authc writes a user, an OAuth account and a session; the Auth.js adapter
// `js` finds each. Returns what was written.
export async function authcWritesAuthjsReads(cli, js) {
  const email = `c-${randomUUID()}@example.com`;
  const u = await cli.call("create_user", {
    user: { name: "C Writer", email, image: "https://example.com/a.png", emailVerified: stamp() },
  });
  sameUser(u, await js.getUser(String(u.id)), "getUser");
  sameUser(u, await js.getUserByEmail(email), "getUserByEmail");

  const account = {
    userId: u.id, type: "oauth", provider: "github", providerAccountId: String(Date.now()),
    access_token: "at-" + randomUUID(), refresh_token: "rt", id_token: "it", token_type: "bearer",
    scope: "read:user", session_state: "ss", expires_at: Math.floor(Date.now() / 1000) + 3600,
  };
  await cli.call("link_account", { account });
  sameUser(u, await js.getUserByAccount({ provider: "github", providerAccountId: account.providerAccountId }), "getUserByAccount");

  const token = randomUUID();
  const expires = stamp(30 * 86400e3);
  await cli.call("create_session", { session: { sessionToken: token, userId: u.id, expires } });
  const su = await js.getSessionAndUser(token);
  assert.ok(su, "getSessionAndUser found nothing");
  assert.equal(su.session.sessionToken, token);
  assert.equal(String(su.session.userId), u.id);
  assert.ok(su.session.expires instanceof Date, "session.expires is not a Date");
  assert.equal(su.session.expires.getTime(), expires);
  sameUser(u, su.user, "getSessionAndUser.user");
  return { u, email, account, token, expires };
}
