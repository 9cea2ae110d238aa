export * from "./database.ts";
export * from "./migrate.ts";
export * from "./generated/prisma/client.ts";
