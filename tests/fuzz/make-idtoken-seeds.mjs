// make-idtoken-seeds.mjs — signed ID tokens and their JWKS for the idtoken
// fuzz corpus (called by make-seeds.py; prints a JSON array of seeds).
import * as jose from 'jose';

const NOW = 1800000000;
const claims = { iss: 'https://issuer.example', aud: 'fuzz-client', sub: 'u1', nonce: 'fuzz-nonce',
  iat: NOW - 10, exp: NOW + 3600, email: 'u1@example.com', email_verified: true };
const seeds = [];
for (const [alg, opts] of [['RS256', { modulusLength: 2048 }], ['ES256', {}], ['PS256', { modulusLength: 2048 }],
                           ['EdDSA', { crv: 'Ed25519' }], ['ES384', {}]]) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { ...opts, extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: `k-${alg}`, alg, use: 'sig' };
  const jwks = JSON.stringify({ keys: [jwk] });
  const sign = (c, h = {}) => new jose.SignJWT(c).setProtectedHeader({ alg, kid: `k-${alg}`, ...h }).sign(privateKey);
  seeds.push(`${jwks}\n--\n${await sign(claims)}`);
  if (alg === 'RS256') {
    seeds.push(`${jwks}\n--\n${await sign({ ...claims, aud: ['other', 'fuzz-client'], azp: 'fuzz-client' })}`);
    seeds.push(`${jwks}\n--\n${await sign({ ...claims, nonce: 'other' })}`);
    seeds.push(`${jwks}\n--\n${await sign({ ...claims, exp: NOW - 3600 })}`);
    seeds.push(`${JSON.stringify({ keys: [{ ...jwk, kid: undefined }] })}\n--\n${await sign(claims, { kid: undefined })}`);
    const logout = { iss: claims.iss, aud: claims.aud, iat: NOW - 5, exp: NOW + 120, jti: 'j-1', sid: 's-1',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} } };
    seeds.push(`${jwks}\n--\n${await sign(logout, { typ: 'logout+jwt' })}`);
    seeds.push(`${jwks}\n--\n${await sign({ ...logout, sid: undefined, sub: 'u1' })}`);
  }
}
const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
seeds.push(`{"keys":[]}\n--\n${none}`);
seeds.push(`{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}\n--\n${none}`);
console.log(JSON.stringify(seeds));
