// Builds only the canvas benchmark page (bench.html) for bench/canvas-frames.ts.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "./",
  // The benchmark passes --outDir (a temporary folder), so nothing lands in the repository.
  build: { emptyOutDir: true, rollupOptions: { input: "bench.html" } },
});
