export * from "./keyring.ts";
export * from "./envelope.ts";
export * from "./store.ts";
export * from "./resolver.ts";
export * from "./test-send.ts";
