export * from "./env.ts";
