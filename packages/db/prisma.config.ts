// Prisma CLI configuration for this machine's constraints (see CONTRIBUTING.md, "Add a migration"):
// the WASM schema engine with a driver adapter, so no native engine is downloaded.
import { PrismaPg } from "@prisma/adapter-pg";
import type { PrismaConfig } from "prisma";

export default {
  experimental: { adapter: true },
  engine: "js",
  schema: "../../prisma/schema.prisma",
  migrations: { path: "../../prisma/migrations" },
  adapter: () =>
    Promise.resolve(
      new PrismaPg({
        connectionString:
          process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
      }),
    ),
} satisfies PrismaConfig;
