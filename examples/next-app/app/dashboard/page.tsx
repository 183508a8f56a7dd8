import { redirect } from "next/navigation"
import { auth } from "@/auth"
import { SignOut } from "@/components/sign-out"
import { ClientSignOut } from "@/components/client-buttons"

export default async function Dashboard() {
  const session = await auth()
  if (!session) redirect("/api/auth/signin?callbackUrl=/dashboard")
  return (
    <main>
      <h1 id="dashboard-title">仪表盘</h1>
      <p id="server-greeting">欢迎, {session.user?.name}</p>
      <SignOut />
      <ClientSignOut />
    </main>
  )
}
