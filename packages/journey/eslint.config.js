// eslint-disable-next-line no-restricted-imports -- the shared lint preset is tooling, not a runtime dependency of the domain
import { domainRestrictedImports, preset } from "@postpath/config/eslint";
export default preset({ tsconfigRootDir: import.meta.dirname, restrictedImports: domainRestrictedImports });
