import { preset } from "@postpath/config/eslint";
import reactHooks from "eslint-plugin-react-hooks";

export default [
  ...preset({ tsconfigRootDir: import.meta.dirname, browser: true }),
  reactHooks.configs.flat.recommended,
];
