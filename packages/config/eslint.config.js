import { preset } from "./eslint.js";
export default preset({ tsconfigRootDir: import.meta.dirname });
