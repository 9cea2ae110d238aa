import { preset } from "@postpath/config/eslint";
export default preset({
  tsconfigRootDir: import.meta.dirname,
  ignores: ["test-results/**", "playwright-report/**"],
});
