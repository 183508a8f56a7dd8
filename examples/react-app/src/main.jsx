// main.jsx — entry of the React example: the unmodified next-auth/react
// SessionProvider at the root, pointed at authc's routes with basePath.
import { createRoot } from "react-dom/client";
import { SessionProvider } from "next-auth/react";
import { App } from "./App.jsx";

// basePath: where authc answers (Next.js apps use /api/auth). Polling every
// 5 minutes and refetch on focus behave as in any Auth.js app.
createRoot(document.getElementById("root")).render(
  <SessionProvider basePath="/auth" refetchInterval={5 * 60} refetchOnWindowFocus={true}>
    <App />
  </SessionProvider>,
);
