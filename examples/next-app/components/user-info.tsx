"use client"
import { useSession } from "next-auth/react"

export function UserInfo() {
  const { data: session, status } = useSession()
  if (status === "loading") return <p id="client-greeting">加载中…</p>
  return <p id="client-greeting" data-status={status}>{session ? `欢迎, ${session.user?.name}` : "未登录"}</p>
}
