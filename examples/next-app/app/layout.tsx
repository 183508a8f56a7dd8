import type { Metadata } from "next"
import type { ReactNode } from "react"
import { SessionProvider } from "next-auth/react"
import "./globals.css"

export const metadata: Metadata = { title: "登录与退出" }

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="zh-CN">
      <body>
        <SessionProvider>{children}</SessionProvider>
      </body>
    </html>
  )
}
