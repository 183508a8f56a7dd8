import AuthC from "@authc/next"
export const { handlers, auth, signIn, signOut } = AuthC({ url: process.env.AUTHC_URL })
