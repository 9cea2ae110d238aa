import "@xyflow/react/dist/style.css";
import "./styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { makeQueryClient, makeTrpcClient } from "./trpc.ts";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <App trpcClient={makeTrpcClient()} queryClient={makeQueryClient()} />
  </StrictMode>,
);
