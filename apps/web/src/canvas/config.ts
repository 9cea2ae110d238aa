// Defensive readers for a step's config. A draft may be incomplete (the canvas shows work in
// progress), so nothing here assumes a field exists or has the right type.

export type Config = Readonly<Record<string, unknown>>;

export function asConfig(data: unknown): Config {
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Config) : {};
}

/** A non-empty trimmed string, or undefined. */
export function str(config: Config, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

export function num(config: Config, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
      return Number(value);
  }
  return undefined;
}

export function list(config: Config, ...keys: string[]): unknown[] {
  for (const key of keys) {
    const value = config[key];
    if (Array.isArray(value)) return value;
  }
  return [];
}

export function obj(config: Config, ...keys: string[]): Config | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Config;
  }
  return undefined;
}
