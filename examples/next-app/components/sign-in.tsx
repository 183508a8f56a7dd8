import { signIn } from "@/auth"
import { redirect } from "next/navigation"

export function SignIn() {
  return (
    <form
      action={async () => {
        "use server"
        await signIn("github")
      }}
    >
      <button type="submit" id="server-signin">使用 GitHub 登录</button>
    </form>
  )
}

export function SignInWithPassword() {
  return (
    <form
      id="credentials-form"
      action={async (formData) => {
        "use server"
        try {
          await signIn("credentials", formData)
        } catch (error) {
          // CredentialsSignin: a wrong username or password
          if (error instanceof Error && "type" in error && error.type === "CredentialsSignin") {
            const code = "code" in error ? String(error.code) : ""
            return redirect(`/?error=CredentialsSignin&code=${encodeURIComponent(code)}`)
          }
          throw error
        }
      }}
    >
      <input type="hidden" name="redirectTo" value="/dashboard" />
      <label>
        用户名 <input name="username" id="username" autoComplete="username" />
      </label>
      <label>
        密码 <input name="password" id="password" type="password" autoComplete="current-password" />
      </label>
      <button type="submit" id="credentials-signin">登录</button>
    </form>
  )
}
