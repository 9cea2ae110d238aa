// Shared ESLint flat-config preset: type-aware typescript-eslint plus the layer rules.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** Imports that the pure domain package may never make. */
export const domainRestrictedImports = {
  paths: [
    { name: "@trpc/server", message: "packages/journey is pure: no tRPC." },
    { name: "@prisma/client", message: "packages/journey is pure: no Prisma." },
    { name: "bullmq", message: "packages/journey is pure: no BullMQ." },
    { name: "ioredis", message: "packages/journey is pure: no Redis." },
    { name: "react", message: "packages/journey is pure: no React." },
  ],
  patterns: [
    {
      group: ["node:*", "fs", "net", "http", "child_process"],
      message: "packages/journey does no I/O.",
    },
    { group: ["@postpath/*"], message: "packages/journey depends on no other Postpath package." },
  ],
};

/** Packages may never import apps. */
export const packageRestrictedImports = {
  patterns: [
    {
      group: ["@postpath/server", "@postpath/worker", "@postpath/web"],
      message: "packages must not import apps.",
    },
  ],
};

/**
 * @param {{ tsconfigRootDir: string, restrictedImports?: object, browser?: boolean, ignores?: string[] }} opts
 */
export function preset(opts) {
  return tseslint.config(
    { ignores: ["dist/**", "**/generated/**", "node_modules/**", ...(opts.ignores ?? [])] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        globals: opts.browser ? { ...globals.browser } : { ...globals.node },
        parserOptions: { projectService: true, tsconfigRootDir: opts.tsconfigRootDir },
      },
      rules: {
        "@typescript-eslint/switch-exhaustiveness-check": "error",
        "@typescript-eslint/consistent-type-imports": "error",
        "@typescript-eslint/no-unused-vars": [
          "error",
          { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
        ],
        "@typescript-eslint/no-floating-promises": "error",
        "@typescript-eslint/only-throw-error": "off",
      },
    },
    // Layer rules apply to the package's source, not to its tooling config files.
    ...(opts.restrictedImports
      ? [
          {
            files: ["src/**/*.ts", "src/**/*.tsx"],
            rules: { "no-restricted-imports": ["error", opts.restrictedImports] },
          },
        ]
      : []),
    {
      files: ["**/*.js", "**/*.mjs"],
      ...tseslint.configs.disableTypeChecked,
    },
    {
      files: ["**/*.test.ts", "**/*.test.tsx"],
      rules: {
        "@typescript-eslint/no-unsafe-assignment": "off",
        "@typescript-eslint/no-unsafe-member-access": "off",
        "@typescript-eslint/no-non-null-assertion": "off",
      },
    },
  );
}
