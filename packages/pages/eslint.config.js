import { packageRestrictedImports, preset } from "@postpath/config/eslint";
export default preset({
  tsconfigRootDir: import.meta.dirname,
  restrictedImports: packageRestrictedImports,
});
