// App.jsx — the seed's "登录与退出" client side: useSession, signIn(…, {redirectTo}),
// signOut({callbackUrl: "/"}), update(), and a /dashboard only for signed-in users.
import { useEffect, useState } from "react";
import { getProviders, signIn, signOut, useSession } from "next-auth/react";

function Header() {
  return (
    <header>
      <strong>authc · React app</strong>
      <nav>
        <a href="/">首页 Home</a>
        <a href="/dashboard">仪表盘 Dashboard</a>
      </nav>
    </header>
  );
}

function StatusBadge({ status }) {
  return <p><span className="status" id="status" data-status={status}>status: {status}</span></p>;
}

const displayName = (s) => s?.user?.name || s?.user?.email || "";

function SignOutButton() {
  return (
    <button type="button" id="signout" className="secondary" onClick={() => signOut({ callbackUrl: "/" })}>
      退出 / Sign out
    </button>
  );
}

function CredentialsForm({ id }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    // On success the client navigates to redirectTo; on a refusal to the
    // sign-in page with ?error=CredentialsSignin.
    await signIn(id, { username, password, redirectTo: "/dashboard" });
  };
  return (
    <form id="credentials-form" onSubmit={submit}>
      <label htmlFor="username">用户名 Username</label>
      <input id="username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
      <label htmlFor="password">密码 Password</label>
      <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" id="signin" disabled={busy}>登录 / Sign in</button>
    </form>
  );
}

function EmailForm({ id }) {
  const [email, setEmail] = useState("");
  return (
    <form onSubmit={(e) => { e.preventDefault(); signIn(id, { email, redirectTo: "/dashboard" }); }}>
      <label>邮箱 Email</label>
      <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <button type="submit" className="secondary" data-provider={id}>发送登录链接 / Email me a link</button>
    </form>
  );
}

function SignInOptions() {
  const [providers, setProviders] = useState(null);
  useEffect(() => { getProviders().then(setProviders); }, []);
  const list = Object.values(providers || {});
  return (
    <>
      {list.filter((p) => p.type === "credentials").map((p) => <CredentialsForm key={p.id} id={p.id} />)}
      {list.some((p) => p.type !== "credentials") && <hr />}
      {list.map((p) => {
        if (p.type === "oauth" || p.type === "oidc")
          return (
            <button key={p.id} type="button" className="secondary" data-provider={p.id}
              onClick={() => signIn(p.id, { redirectTo: "/dashboard" })}>
              使用 {p.name} 登录 / Sign in with {p.name}
            </button>
          );
        if (p.type === "email") return <EmailForm key={p.id} id={p.id} />;
        if (p.type === "webauthn")
          return <p key={p.id} className="muted">{p.name}: use the built-in page below.</p>;
        return null;
      })}
      <div>
        {/* signIn() without a provider: the built-in page, then back here. */}
        <button type="button" id="signin-page" className="secondary" onClick={() => signIn()}>
          内置登录页 / Built-in sign-in page
        </button>
      </div>
    </>
  );
}

function SessionPanel({ session, update, setNote }) {
  return (
    <>
      <pre id="session-json">{JSON.stringify(session, null, 2)}</pre>
      <button type="button" id="update" className="secondary"
        onClick={async () => { const s = await update(); setNote(s ? "update(): ok" : "update(): no session"); }}>
        刷新会话 / update()
      </button>
      <button type="button" id="update-data" className="secondary"
        onClick={async () => { const s = await update({ seenAt: new Date().toISOString() }); setNote(s ? "update(data): ok" : "update(data): no session"); }}>
        update(data)
      </button>
    </>
  );
}

function Home() {
  const { data: session, status, update } = useSession();
  // Kept here: update() switches status to "loading" while it runs.
  const [note, setNote] = useState("");
  return (
    <main className="card">
      <h1 id="greeting">{session ? `欢迎, ${displayName(session)}` : status === "loading" ? "加载中…" : "未登录"}</h1>
      <StatusBadge status={status} />
      {session && (
        <>
          <p><a href="/dashboard" id="dashboard-link">前往仪表盘 / Go to the dashboard →</a></p>
          <SessionPanel session={session} update={update} setNote={setNote} />
          <SignOutButton />
          <p className="muted" id="updated">{note}</p>
        </>
      )}
      {status === "unauthenticated" && <SignInOptions />}
    </main>
  );
}

function Dashboard() {
  // required: anonymous visitors are sent to <basePath>/signin with
  // callbackUrl = this page, and come back here after signing in.
  const { data: session, status } = useSession({ required: true });
  return (
    <main className="card">
      <h1 id="title">仪表盘 Dashboard</h1>
      <StatusBadge status={status} />
      {status === "authenticated" ? (
        <>
          <p id="greeting">欢迎, {displayName(session)}</p>
          <p className="muted">Only signed-in visitors see this page.</p>
          <SignOutButton />
        </>
      ) : (
        <p className="muted">加载中…</p>
      )}
    </main>
  );
}

export function App() {
  const path = window.location.pathname.replace(/\/+$/, "") || "/";
  return (
    <>
      <Header />
      {path === "/dashboard" ? <Dashboard /> : <Home />}
      <p className="muted">
        React + the unmodified <code>next-auth/react</code> (SessionProvider, useSession, signIn, signOut) against authc.
      </p>
    </>
  );
}
