import Link from "next/link"
import { auth } from "@/auth"
import { SignIn, SignInWithPassword } from "@/components/sign-in"
import { SignOut } from "@/components/sign-out"
import { ClientSignIn, ClientSignOut } from "@/components/client-buttons"
import { UserInfo } from "@/components/user-info"

export default async function Home({ searchParams }: { searchParams: Promise<{ error?: string; code?: string }> }) {
  const session = await auth()
  const { error, code } = await searchParams
  return (
    <main>
      {/* Server component: the session of this request */}
      <h1 id="server-greeting">{session ? `欢迎, ${session.user?.name}` : "未登录"}</h1>
      {error && (
        <p className="error" id="error">
          登录失败: {error}
          {code ? ` (${code})` : ""}
        </p>
      )}
      <section>
        <h2>服务端 (Server Actions)</h2>
        {session ? (
          <SignOut />
        ) : (
          <>
            <SignIn />
            <SignInWithPassword />
          </>
        )}
      </section>
      <section>
        <h2>客户端 (next-auth/react)</h2>
        <UserInfo />
        {session ? <ClientSignOut /> : <ClientSignIn />}
      </section>
      <p>
        <Link href="/dashboard">仪表盘</Link>
      </p>
    </main>
  )
}
