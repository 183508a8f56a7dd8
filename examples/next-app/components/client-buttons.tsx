"use client"
import { signIn, signOut } from "next-auth/react"

export function ClientSignIn() {
  return (
    <button id="client-signin" onClick={() => signIn("github", { callbackUrl: "/dashboard" })}>
      使用 GitHub 登录 (客户端)
    </button>
  )
}

export function ClientSignOut() {
  return (
    <button id="client-signout" onClick={() => signOut({ callbackUrl: "/" })}>
      退出 (客户端)
    </button>
  )
}
