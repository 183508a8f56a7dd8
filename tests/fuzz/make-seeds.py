#!/usr/bin/env python3
# make-seeds.py — writes the seed corpora in tests/fuzz/corpus/ from the
# requests, tokens and fixtures the unit tests use. Re-run after changing it.
import base64, json, os, re, struct, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, '..', '..'))
corpus = os.path.join(here, 'corpus')

def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

def b64u(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))

def c_strings(path, array):
    """The string literals of a C array (the smoke seeds), unescaped."""
    src = open(path).read()
    body = src[src.index(array):]
    body = body[:body.index('};')]
    return [bytes(m, 'latin-1').decode('unicode_escape') for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body)]

def put_all(target, items, prefix='seed'):
    for i, s in enumerate(items):
        put(target, '%s-%02d' % (prefix, i), s)

# handle: the smoke seeds of smoke.c, and a few more routes.
put_all('handle', c_strings(os.path.join(here, 'smoke.c'), 'SEEDS[]') + [
    "GET\n/auth/csrf\nHost: h\n\n",
    "GET\n/auth/providers\nHost: h\n\n",
    "GET\n/auth/signin\nHost: h\nAccept-Language: en\n\n",
])

# cookies: '@S' small token, '@B' chunked token, '@0'..'@3' its chunks.
cookies = [
    "authjs.session-token=@S",
    "authjs.session-token.0=@0; authjs.session-token.1=@1; authjs.session-token.2=@2",
    "authjs.session-token.2=@2; authjs.session-token.0=@0; authjs.session-token.1=@1",
    "authjs.session-token.0=@0\nauthjs.session-token.1=@1; authjs.session-token.2=@2",
    "authjs.session-token=@B",
    "authjs.session-token=\"@S\"; authjs.csrf-token=a%7Cb",
    "authjs.session-token=@S; authjs.session-token=garbage",
    "authjs.session-token.0=@0; authjs.session-token.1=@1; authjs.session-token.2=@2; authjs.session-token.3=x",
    "authjs.session-tokenX=1; authjs.session-token=@S",
    "authjs.session-token.999=a; authjs.session-token.0=@0; authjs.session-token.1=@1; authjs.session-token.2=@2",
    "a=b; ;; =c; authjs.session-token=%40S",
    "__Secure-authjs.session-token=@S; authjs.callback-url=http%3A%2F%2Flocalhost%3A3000",
]
put_all('cookies', cookies)

# jwt: ' ' + claims text (encrypted by the target), '!' + a raw token.
vec = json.load(open(os.path.join(root, 'tests', 'vectors', 'authjs-jwt.json')))
claims = [
    '{"name":"Alice","email":"alice@example.com","sub":"1"}',
    '{"name":"Alice","email":"alice@example.com","picture":null,"sub":"1","iat":1799990000,"exp":1802590000,"jti":"0e0a2c2f-6b1c-4a77-9c1a-5a0f2d1f3c4e"}',
    '{ "sub" : "1" , "exp" : 1800000100.5 , "nbf" : 1799999999 }',
    '{"sub":"1","exp":1799999980}',
    '{"sub":"1","nbf":1800000100}',
    '{"sub":"1","iat":"x"}',
    '{"sub":"1","exp":18446744073709551616}',
    '{"sub":"1","big":123456789012345678901234567890}',
    '{"sub":"1","r":1e400}',
    '{"name":"\\u00e9\\ud83d\\ude00","email":"a\\"b@c","data":{"x":[1,2,{"y":null}],"t":true,"f":false}}',
    '{"name":"\xc3\xa9","exp":-1}',
    '{}',
    '[]',
    '{"exp":1e2,"iat":-0,"jti":"j","jti2":"k","name":"a","name":"b"}',
]
for i, c in enumerate(claims):
    put('jwt', 'claims-%02d' % i, b' ' + c.encode('latin-1') if isinstance(c, str) else c)
for i, case in enumerate(vec['cases'][:4]):
    put('jwt', 'token-%02d' % i, '!' + case['token'])

# form: byte 0 route, byte 1 content type, then the body; '@C' = CSRF token.
form = [
    (0, 0, "csrfToken=@C&callbackUrl=%2Fdashboard&username=alice&password=x"),
    (1, 0, "csrfToken=@C&username=alice&password=wonderland"),
    (1, 1, '{"csrfToken":"@C","username":"alice","password":"x","callbackUrl":"/"}'),
    (2, 1, '{"csrfToken":"@C","data":{"name":"x"}}'),
    (3, 0, "csrfToken=@C&callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fbye"),
    (3, 2, "csrfToken=@C"),
    (4, 0, "csrfToken=@C"),
    (5, 0, "csrfToken=@C&code=x&state=y"),
    (0, 0, "a=1&a=2&%zz=3&=4&b&c=%E2%82%AC+x&csrfToken=@C"),
    (0, 1, '{"csrfToken":"@C","a":{"b":[1,2,3]},"u":"\\u0000"}'),
    (7, 1, '{"csrfToken":"@C","action":"authenticate"}'),
    (1, 3, "csrfToken=@C&username=alice"),
]
put_all('form', [bytes([r, t]) + b.encode() for r, t, b in form])

# url: absolute and relative callback URLs, tricky authorities.
urls = [
    "http://localhost:3000/dashboard?x=1#f", "https://LOCALHOST:443/a", "http://localhost:3000",
    "/dashboard", "//evil.example/x", "/\\evil.example", "http://localhost:3000@evil.example/",
    "http://evil.example/?http://localhost:3000", "http://[::1]:3000/x", "http://localhost:3000./",
    "javascript:alert(1)", "http://localhost:03000/", "http://loc%61lhost:3000/", "HTTP://localhost:3000?q",
    "http://localhost:3000\t/x", "http://xn--e1afmkfd.example:65535/", "/%2F%2Fevil",
]
put_all('url', urls)

# webauthn: the recorded ceremonies, their CBOR and authenticator data.
fx_dir = os.path.join(root, 'tests', 'unit', 'fixtures', 'webauthn')
for f in sorted(os.listdir(fx_dir)):
    fx = json.load(open(os.path.join(fx_dir, f)))
    name = f[:-5]
    cer = {'origin': fx['origin'], 'rpId': fx['rpId'],
           'registration': {'challenge': fx['registration']['challenge'],
                            'credential': fx['registration']['credential']},
           'authentications': [{'challenge': a['challenge'], 'credential': a['credential']}
                               for a in fx.get('authentications', [])[:2]]}
    put('webauthn', name + '.json', json.dumps(cer, separators=(',', ':')))
    resp = fx['registration']['credential']['response']
    att = b64u(resp['attestationObject'])
    put('webauthn', name + '.cbor', b'\x00' + att)
    ad = b64u(resp['authenticatorData'])
    put('webauthn', name + '.authdata', b'\x01' + ad)
    if ad[32] & 0x40:
        l = struct.unpack('>H', ad[53:55])[0]
        cose = ad[55 + l:]
        put('webauthn', name + '.cose', b'\x02' + cose)

# smtp: byte 0 = mode (0 URL, 1 mailbox, 2 MIME; bit 2 = plain allowed),
# fields separated by NUL.
smtp = [
    b'\x00smtp://user:Pw-4f7a1c9e@mail.example.com:587/ehlo.example',
    b'\x00smtps://mail.example.com',
    b'\x04smtp://127.0.0.1:2525',
    b'\x00smtp://us%65r:p%40ss@[::1]:25\x00override',
    b'\x00smtp://user:Pw-4f7a1c9e@bad host\x00',
    b'\x00smtps://user:Pw-4f7a1c9e@[::1\x00',
    b'\x01Authc Team <noreply@example.com>',
    b'\x01"Quoted, Name" <a@b.c>',
    b'\x01noreply@example.com',
    b'\x02Sign in to localhost:3000\x00Sign in\nhttps://localhost:3000/x?token=abc\n\x00<p>Sign in</p>\x00Authc',
    b'\x02\xe7\x99\xbb\xe5\xbd\x95 \xe2\x80\x94 =?x?= long subject ' + b'x' * 120 + b'\x00.\nline\r\n.\x00<b>\xc3\xa9</b>\x00\xc3\xa9quipe',
]
put_all('smtp', smtp)

# email: raw addresses as a sign-in form posts them.
emails = ['Alice@Example.COM', '  bob@example.com  ', 'ｆｕｌｌ＠ｗｉｄｔｈ.example', 'a@b.com,c@d.com',
          '"quoted"@x', 'a@@b', '@b', 'İstanbul@example.com', 'ΣΑΣ@example.com', 'a\u200b@b', 'ﬁ@ﬃ.example']
put_all('email', emails)
put('email', 'seed-ip4', '192.0.2.1')
put('email', 'seed-ip6', '2001:db8::1')
put('email', 'seed-bad', b'a\xc0\xafb@c')

# adapters: stored dates and database URLs.
adapters = ['2026-11-25T07:07:58.856Z', '2026-11-25 07:07:58+00:00', '1970-01-01T00:00:00Z',
            '9999-12-31T23:59:59.999Z', '2024-02-29T12:00:00.5Z', '2023-02-29T00:00:00.000Z',
            'postgres://authc:s3cretpass@db.example:5432/authc', 'redis://:s3cretpass@127.0.0.1:6379/0',
            'postgresql://u@h/d?password=s3cretpass&sslmode=require']
put_all('adapters', adapters)

# config: byte 0 even = a settings file, odd = a users file (the hash is
# `authc hash-password` of "wonderland").
H = '$argon2id$v=19$m=19456,t=2,p=1$DPKcCbyhGu2kpcePXm+9Yg$fz4NRWQRqrJE2FxMxYVbvXyqc39D+Ab+EyItmd8fHY4'
SECRET = 'AUTH_SECRET=fuzz-secret-0123456789abcdefghijklmnopq\n'
put_all('config', [
    '\0' + SECRET + 'AUTH_URL=http://localhost:3000/auth\n',
    '\0# comment\nexport AUTH_SECRET="a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q"\nAUTH_TRUST_HOST=true\n'
    'AUTHC_SESSION_STRATEGY=jwt\nAUTHC_SESSION_MAX_AGE=3600\nAUTHC_LANG=zh-CN\n',
    "\0AUTH_SECRET='s1-0123456789abcdefghijklmnopqrstuv',s2-0123456789abcdefghijklmnopqrstuv\n"
    'AUTH_GITHUB_ID=abc\nAUTH_GITHUB_SECRET=def\nAUTH_GOOGLE_ID=x\nAUTH_GOOGLE_SECRET=y\n',
    '\0' + SECRET + 'AUTHC_PASSKEY=1\nAUTHC_PASSKEY_RP_ID=localhost\nAUTHC_PASSKEY_ORIGINS=http://localhost:3000\n'
    'AUTHC_THEME_BRAND_COLOR=#336699\nAUTHC_PAGES_SIGNIN=/login\n',
    '\0' + SECRET + 'AUTHC_EMAIL=log\nAUTHC_EMAIL_FROM=Authc <noreply@example.com>\n'
    'AUTHC_EMAIL_LIMIT_PER_ADDRESS=5/1h\nAUTHC_COOKIE_DOMAIN=example.com\nAUTHC_USE_SECURE_COOKIES=1\n',
], 'settings')
put_all('config', [
    '\x011:alice:%s:alice@example.com:Alice\n2:bob:%s::\n# comment\n' % (H, H),
    '\x011:alice:%s:alice@example.com:Alice\n1:alice:%s:a@b:c\n' % (H, H),
    '\x01x:y:$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA:e:n\n',
], 'users')

# store: counter texts, and operation sequences (op, key, length, value).
def ops(*items):
    out = b''
    for op, key, val in items:
        out += bytes([op, key, len(val)]) + val
    return out
put_all('store', [b'12345', b'-9223372036854775808', b'9223372036854775808'], 'counter')
put_all('store', [
    ops((0, 0, b'abc'), (2, 0, b''), (4, 1, b'\x05'), (4, 1, b'\xfb'), (2, 1, b''), (3, 1, b''), (2, 1, b'')),
    ops((1, 2, b'owner'), (1, 2, b'x'), (13, 2, b'owner'), (5, 2, b'owner'), (2, 2, b'')),
    b'0' + ops((0, 0, b'10'), (4, 0, b'\x7f'), (4, 0, b'\x7f'), (2, 0, b''), (0, 0, b'-x'), (4, 0, b'\x01')),
], 'ops')

# redis: byte 0 = row kind (0 user, 1 account, 2 session, 3 token, 4
# authenticator), then the value as upstash-redis-adapter stores it.
put_all('redis', [
    '\0{"id":"u1","name":"Alice","email":"alice@example.com","emailVerified":"2026-11-25T07:07:58.856Z","image":null}',
    '\0{"name":"B\\u00e9","email":"b@example.com","emailVerified":null}',
    '\x01{"userId":"u1","type":"oidc","provider":"github","providerAccountId":"42","access_token":"at",'
    '"refresh_token":"rt","expires_at":1800000000,"token_type":"bearer","scope":"read","id_token":"x.y.z",'
    '"session_state":null}',
    '\x02{"sessionToken":"3b0c1e1f-0000-4000-8000-000000000000","userId":"u1","expires":"2026-12-25T07:07:58.856Z"}',
    '\x03{"identifier":"alice@example.com","token":"' + 'a' * 64 + '","expires":"2026-11-26T07:07:58.856Z"}',
    '\x04{"credentialID":"AAEC","userId":"u1","providerAccountId":"AAEC","credentialPublicKey":"pQECAyYgASFY",'
    '"counter":7,"credentialDeviceType":"multiDevice","credentialBackedUp":true,"transports":"internal,hybrid"}',
    '\x02[1,2]',
    '\x00{"id":"u1","emailVerified":"not a date","id":"dup"}',
])

# idtoken: JWKS + "\n--\n" + signed token, made with jose (node).
out = subprocess.run(['node', os.path.join(here, 'make-idtoken-seeds.mjs')], cwd=root,
                     capture_output=True, text=True)
if out.returncode:
    sys.exit('make-idtoken-seeds.mjs: ' + out.stderr)
put_all('idtoken', json.loads(out.stdout))
