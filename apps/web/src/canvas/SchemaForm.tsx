// A form generated from a step's zod schema (via its JSON Schema): one labelled control per field,
// nested objects as fieldsets, lists with add/remove, and the field's errors under it. The zod
// schema stays the judge: the caller parses the value and passes the issues back as `errors`.
import { OPERATOR_WORDS } from "./words.ts";
import { useId } from "react";
import type { ReactNode } from "react";
import { NamePicker } from "../components/NamePicker.tsx";
import { NameListRows, NameValueRows } from "./NameRows.tsx";
import type { PickerSource } from "./pickers.ts";

export type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  pattern?: string;
  /** A label for the field (zod `.meta({ title })`); else the key, humanized. */
  title?: string;
  /** Labels for `enum` options, in order (zod `.meta({ enumNames })`); else the values. */
  enumNames?: string[];
};

/** Field errors by dotted path ("conditions.0.property"); "" for the whole value. */
export type FieldErrors = Readonly<Record<string, readonly string[]>>;

type Value = unknown;
type Obj = Record<string, unknown>;

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Value;
  onChange: (value: Value) => void;
  errors: FieldErrors;
  /** Fields (dotted paths) edited as multi-line text, e.g. message bodies. */
  multiline?: ReadonlySet<string>;
  /** Fields not to draw (edited elsewhere). */
  hidden?: ReadonlySet<string>;
  disabled?: boolean;
  /** Suggestions for text fields, by path: the id of a <datalist>. */
  lists?: Readonly<Record<string, string>>;
  /** Text fields that name an event, a property or an attribute, by path: drawn as a picker of
   * what the workspace has seen (issue 16); undefined for a plain field. For a record (names →
   * values) or a list of text, the picker is for each name: one row per name. */
  pickers?: (path: string) => PickerSource | undefined;
  /** A line of help under a field, by path (e.g. values seen for a condition's property). */
  hints?: (path: string) => string | undefined;
  /** A control of the caller's own for a field, by path (issue 16: a segment or stage picker in a
   * condition on membership); undefined: the schema's control. Label, hint and errors stay; the
   * field is marked as needed. */
  renderField?: (
    path: string,
    field: CustomField,
  ) => { label?: string; control: ReactNode } | undefined;
}

/** What a custom control gets: the field's id (its label points at it), value and state. */
export interface CustomField {
  id: string;
  value: unknown;
  onChange: (value: unknown) => void;
  disabled: boolean | undefined;
  invalid: boolean | undefined;
  describedBy: string | undefined;
}

/**
 * Words a marketer uses for fields whose schema has no title (zod `.meta({ title })` wins), by
 * the field's key. The stored keys never change: only what the form shows.
 */
export const FIELD_WORDS: Readonly<Record<string, string>> = {
  op: "Comparison",
  qr: "QR code",
  as: "Name for later messages",
  onError: "If it still fails",
  ifMissing: "If the date is missing",
  onCap: "When the cap is reached",
  "entry.mode": "A customer can enter",
  "quietHours.mode": "During quiet hours",
  perValueOf: "Count entries separately for each value of",
  maxEntries: "At most this many entries",
  expiresIn: "Expires after",
  // The coupon step (issue 18: "Kind: percent" was the enum's own word).
  "value.kind": "Discount type",
  "source.kind": "Codes come from",
  // The "Update attribute" step.
  set: "Attributes to set",
  unset: "Attributes to clear",
};

/**
 * Words for enum values whose schema has no `enumNames`, by the field's key, then the value.
 * (`mode` is the entry rule's and quiet hours'; their values differ.)
 */
export const VALUE_WORDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  op: OPERATOR_WORDS,
  onError: {
    continue: "Continue to the next step",
    errorBranch: "Take the 'failed' path",
    exit: "End the journey for this customer",
  },
  mode: {
    once: "Once ever",
    afterExit: "Again after they leave",
    afterCooldown: "Again after a cool-down",
    hold: "Hold messages until quiet hours end",
    skip: "Skip the message and continue",
  },
  onCap: {
    skip: "Skip the message and continue",
    delay: "Send it once the cap allows",
  },
  ifMissing: {
    continue: "Continue right away",
    exit: "End the journey for this customer",
  },
  match: { all: "All of these", any: "Any of these" },
  // The coupon step's value and source (by parent and key: other steps' `kind`s differ).
  "value.kind": { percent: "Percent off", amount: "Amount off", freeShipping: "Free shipping" },
  "source.kind": { pool: "A coupon pool", pattern: "Generated from a pattern" },
  recurrence: { once: "Once", yearly: "Every year" },
  channels: { email: "Email", sms: "SMS", push: "Push" },
  unit: {
    seconds: "seconds",
    minutes: "minutes",
    hours: "hours",
    days: "days",
    weeks: "weeks",
    months: "months",
    years: "years",
  },
};

/** The last key of a dotted path, skipping list indexes ("conditions.0.op" → "op"). */
function keyOf(path: string): string {
  const parts = path.split(".").filter((p) => !/^\d+$/.test(p));
  return parts[parts.length - 1] ?? "";
}

/** Marketer words for a field: by its parent and key ("entry.mode"), else by its key. */
function fieldWords(path: string): string | undefined {
  const parts = path.split(".").filter((p) => !/^\d+$/.test(p));
  const key = parts[parts.length - 1] ?? "";
  return FIELD_WORDS[parts.slice(-2).join(".")] ?? FIELD_WORDS[key];
}

/** What the form shows for an enum option: the schema's `enumNames`, else marketer words. */
export function optionLabel(schema: JsonSchema, path: string, option: unknown, i: number): string {
  const parts = path.split(".").filter((p) => !/^\d+$/.test(p));
  const key = String(option);
  return (
    schema.enumNames?.[i] ??
    VALUE_WORDS[parts.slice(-2).join(".")]?.[key] ??
    VALUE_WORDS[keyOf(path)]?.[key] ??
    key
  );
}

/**
 * What a step's form calls the field at a dotted path ("page" → the label shown beside it): the
 * schema's title, else marketer words, else the key humanized. For problems and warnings that
 * name a field (issue 18: "purl · page" named the stored key).
 */
export function fieldLabel(schema: JsonSchema, path: string): string {
  let node: JsonSchema | undefined = schema;
  let title: string | undefined;
  for (const part of path.split(".")) {
    if (!node) break;
    node = nonNull(node) ?? node;
    if (/^\d+$/.test(part)) {
      node = node.items;
      continue;
    }
    const holder: JsonSchema | undefined = node.properties?.[part]
      ? node
      : node.oneOf?.find((v) => v.properties?.[part]);
    node = holder?.properties?.[part];
    title = node?.title;
  }
  return title ?? fieldWords(path) ?? humanize(keyOf(path));
}

/** "respectQuietHours" → "Respect quiet hours". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const asObj = (v: Value): Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};

function nonNull(schema: JsonSchema): JsonSchema | null {
  const options = schema.anyOf?.filter((s) => s.type !== "null");
  return schema.anyOf && options?.length === 1 && options[0] ? options[0] : null;
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
}

/** A starting value for a field of this schema (its default, or an empty shape). */
export function emptyValue(schema: JsonSchema): Value {
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (schema.oneOf?.[0]) return emptyValue(schema.oneOf[0]);
  if (schema.const !== undefined) return schema.const;
  switch (typeOf(schema) ?? "") {
    case "object": {
      const out: Obj = {};
      for (const key of schema.required ?? []) {
        const prop = schema.properties?.[key];
        if (prop) out[key] = emptyValue(prop);
      }
      return out;
    }
    case "array":
      return [];
    case "string":
      return schema.enum?.[0] ?? "";
    case "boolean":
      return false;
    default:
      return undefined;
  }
}

/** Loose text → value for fields whose type is open ("value" of a condition): numbers and booleans stay typed. */
function parseLoose(text: string): Value {
  const t = text.trim();
  if (t === "") return "";
  if (t === "true" || t === "false") return t === "true";
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t.startsWith("[") || t.startsWith("{")) {
    try {
      return JSON.parse(t) as Value;
    } catch {
      return text;
    }
  }
  return text;
}

/** A number input's min/max: the schema's bound, unless it is only the safe-integer limit. */
function bound(n: number | undefined): number | undefined {
  return n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined;
}

function showLoose(value: Value): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function SchemaForm(props: SchemaFormProps) {
  const prefix = useId();
  return (
    <div className="schema-form">
      <ObjectFields {...props} path="" prefix={prefix} />
    </div>
  );
}

interface FieldProps extends Omit<SchemaFormProps, "schema"> {
  path: string;
  prefix: string;
}

function join(path: string, key: string | number): string {
  return path === "" ? String(key) : `${path}.${key}`;
}

function ObjectFields(props: FieldProps & { schema: JsonSchema }) {
  const { schema, value, onChange, path } = props;
  const obj = asObj(value);
  const entries = Object.entries(schema.properties ?? {}).filter(
    ([key]) => !props.hidden?.has(join(path, key)),
  );
  return (
    <>
      {entries.map(([key, sub]) => (
        <Field
          key={key}
          {...props}
          schema={sub}
          label={sub.title ?? fieldWords(join(path, key)) ?? humanize(key)}
          required={schema.required?.includes(key) ?? false}
          path={join(path, key)}
          value={obj[key]}
          onChange={(v) => {
            const next = { ...obj };
            if (v === undefined) delete next[key];
            else next[key] = v;
            onChange(next);
          }}
        />
      ))}
    </>
  );
}

function Errors({ id, errors }: { id: string; errors: readonly string[] | undefined }) {
  if (!errors || errors.length === 0) return null;
  return (
    <p className="field__error" id={id} role="alert">
      {errors.join(" ")}
    </p>
  );
}

function Field(props: FieldProps & { schema: JsonSchema; label: string; required: boolean }) {
  const { schema, value, onChange, path, prefix, label, errors, disabled } = props;
  const id = `${prefix}-${path}`;
  const errorId = `${id}-error`;
  const fieldErrors = errors[path];
  const invalid = fieldErrors && fieldErrors.length > 0 ? true : undefined;
  const hint = props.hints?.(path);
  const hintId = `${id}-hint`;
  const described =
    [invalid ? errorId : undefined, hint ? hintId : undefined].filter(Boolean).join(" ") ||
    undefined;
  const wrap = (
    control: ReactNode,
    className = "field",
    text = label,
    required = props.required,
  ) => (
    <div className={className} data-field={path}>
      <label htmlFor={id}>
        {text}
        {required ? null : <span className="muted"> (optional)</span>}
      </label>
      {control}
      {hint ? (
        <p className="field__hint muted" id={hintId}>
          {hint}
        </p>
      ) : null}
      <Errors id={errorId} errors={fieldErrors} />
    </div>
  );

  const custom = props.renderField?.(path, {
    id,
    value,
    onChange,
    disabled,
    invalid,
    describedBy: described,
  });
  if (custom) return wrap(custom.control, "field", custom.label ?? label, true);

  const optional = nonNull(schema);
  if (optional) {
    const on = value !== null && value !== undefined;
    return (
      <fieldset className="field field--group" data-field={path}>
        <legend>
          <label>
            <input
              type="checkbox"
              checked={on}
              disabled={disabled}
              onChange={(e) =>
                onChange(e.target.checked ? emptyValue({ ...optional, default: undefined }) : null)
              }
            />{" "}
            {label}
          </label>
        </legend>
        {on ? <Field {...props} schema={optional} label={label} required value={value} /> : null}
        <Errors id={errorId} errors={fieldErrors} />
      </fieldset>
    );
  }

  if (schema.oneOf) {
    const variants = schema.oneOf;
    const kindOf = (s: JsonSchema) => s.properties?.kind?.const;
    const current = asObj(value);
    const active = variants.find((s) => kindOf(s) === current.kind) ?? variants[0];
    return (
      <fieldset className="field field--group" data-field={path}>
        <legend>{label}</legend>
        <div className="field">
          <label htmlFor={id}>{fieldWords(join(path, "kind")) ?? "Kind"}</label>
          <select
            id={id}
            value={typeof current.kind === "string" ? current.kind : ""}
            disabled={disabled}
            onChange={(e) => {
              const variant = variants.find((s) => String(kindOf(s)) === e.target.value);
              if (variant) onChange(emptyValue(variant));
            }}
          >
            {variants.map((s) => (
              <option key={String(kindOf(s))} value={String(kindOf(s))}>
                {VALUE_WORDS[join(path, "kind")]?.[String(kindOf(s))] ??
                  humanize(String(kindOf(s)))}
              </option>
            ))}
          </select>
        </div>
        {active ? (
          <ObjectFields
            {...props}
            schema={active}
            hidden={new Set([join(path, "kind"), ...(props.hidden ?? [])])}
          />
        ) : null}
        <Errors id={errorId} errors={fieldErrors} />
      </fieldset>
    );
  }

  const type = typeOf(schema);
  if (schema.enum) {
    return wrap(
      <select
        id={id}
        value={showLoose(value ?? schema.default)}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={described}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      >
        {(value === undefined && schema.default === undefined) || value === "" ? (
          <option value="">Choose…</option>
        ) : null}
        {schema.enum.map((option, i) => (
          <option key={String(option)} value={String(option)}>
            {optionLabel(schema, path, option, i)}
          </option>
        ))}
      </select>,
    );
  }

  switch (type ?? "") {
    case "string": {
      const text = typeof value === "string" ? value : "";
      const common = {
        id,
        value: text,
        placeholder: typeof schema.default === "string" ? schema.default : undefined,
        disabled,
        "aria-invalid": invalid,
        "aria-describedby": described,
        onChange: (e: { target: { value: string } }) =>
          onChange(e.target.value === "" && !props.required ? undefined : e.target.value),
      };
      const picker = props.multiline?.has(path) ? undefined : props.pickers?.(path);
      if (picker) {
        return wrap(
          <NamePicker
            id={id}
            value={text}
            onChange={(name) => onChange(name === "" && !props.required ? undefined : name)}
            {...picker}
            {...(disabled === undefined ? {} : { disabled })}
            {...(invalid ? { invalid } : {})}
            {...(described ? { describedBy: described } : {})}
          />,
        );
      }
      return wrap(
        props.multiline?.has(path) ? (
          <textarea rows={5} {...common} />
        ) : (
          <input type="text" list={props.lists?.[path]} {...common} />
        ),
      );
    }
    case "number":
    case "integer":
      return wrap(
        <input
          id={id}
          type="number"
          step={type === "integer" ? 1 : "any"}
          min={bound(schema.minimum ?? schema.exclusiveMinimum)}
          max={bound(schema.maximum)}
          value={typeof value === "number" ? value : ""}
          disabled={disabled}
          aria-invalid={invalid}
          aria-describedby={described}
          onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
        />,
      );
    case "boolean":
      return (
        <div className="field field--check" data-field={path}>
          <input
            id={id}
            type="checkbox"
            checked={value === true || (value === undefined && schema.default === true)}
            disabled={disabled}
            onChange={(e) => onChange(e.target.checked)}
          />
          <label htmlFor={id}>{label}</label>
          <Errors id={errorId} errors={fieldErrors} />
        </div>
      );
    case "object":
      if (schema.properties) {
        return (
          <fieldset className="field field--group" data-field={path}>
            <legend>{label}</legend>
            <ObjectFields {...props} schema={schema} />
            <Errors id={errorId} errors={fieldErrors} />
          </fieldset>
        );
      }
      {
        // issue 16: a record keyed by names the workspace has seen (an attribute step's set).
        const names = props.pickers?.(path);
        if (names)
          return (
            <NameValueRows
              id={id}
              path={path}
              label={label}
              value={value}
              onChange={onChange}
              picker={names}
              errors={errors}
              disabled={disabled}
            />
          );
      }
      return wrap(
        <RecordInput
          id={id}
          value={value}
          onChange={onChange}
          disabled={disabled}
          describedBy={described}
        />,
      );
    case "array":
      return <ArrayField {...props} id={id} errorId={errorId} />;
    default:
      return wrap(
        <input
          id={id}
          type="text"
          value={showLoose(value)}
          disabled={disabled}
          aria-invalid={invalid}
          aria-describedby={described}
          onChange={(e) => onChange(parseLoose(e.target.value))}
        />,
      );
  }
}

/** `{ key: value }` edited as "key = value" lines. */
function RecordInput({
  id,
  value,
  onChange,
  disabled,
  describedBy,
}: {
  id: string;
  value: Value;
  onChange: (v: Value) => void;
  disabled?: boolean | undefined;
  describedBy: string | undefined;
}) {
  const text = Object.entries(asObj(value))
    .map(([k, v]) => `${k} = ${showLoose(v)}`)
    .join("\n");
  return (
    <textarea
      id={id}
      rows={3}
      defaultValue={text}
      disabled={disabled}
      aria-describedby={describedBy}
      placeholder="name = value (one per line)"
      onBlur={(e) => {
        const out: Obj = {};
        for (const line of e.target.value.split("\n")) {
          const at = line.indexOf("=");
          if (at <= 0) continue;
          out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
        onChange(out);
      }}
    />
  );
}

function ArrayField(
  props: FieldProps & {
    schema: JsonSchema;
    label: string;
    required: boolean;
    id: string;
    errorId: string;
  },
) {
  const { schema, value, onChange, path, label, errors, id, errorId, disabled } = props;
  const items: unknown[] = Array.isArray(value) ? (value as unknown[]) : [];
  const item = schema.items ?? {};
  const fieldErrors = errors[path];
  if (typeOf(item) === "string" && item.enum) {
    return (
      <fieldset className="field field--group" data-field={path}>
        <legend>{label}</legend>
        <div className="field__choices">
          {item.enum.map((option, i) => (
            <label key={String(option)}>
              <input
                type="checkbox"
                checked={items.includes(option)}
                disabled={disabled}
                onChange={(e) =>
                  onChange(
                    e.target.checked ? [...items, option] : items.filter((i) => i !== option),
                  )
                }
              />{" "}
              {optionLabel(item, path, option, i)}
            </label>
          ))}
        </div>
        <Errors id={errorId} errors={fieldErrors} />
      </fieldset>
    );
  }
  const names = typeOf(item) === "string" ? props.pickers?.(path) : undefined;
  if (names) {
    // issue 16: a list of names the workspace has seen (an attribute step's attributes to clear).
    return (
      <NameListRows
        id={id}
        path={path}
        label={label}
        value={value}
        onChange={onChange}
        picker={names}
        errors={errors}
        disabled={disabled}
      />
    );
  }
  if (typeOf(item) !== "object") {
    return (
      <div className="field" data-field={path}>
        <label htmlFor={id}>
          {label} <span className="muted">(comma-separated)</span>
        </label>
        <input
          id={id}
          type="text"
          defaultValue={items.map(showLoose).join(", ")}
          disabled={disabled}
          aria-describedby={fieldErrors ? errorId : undefined}
          onBlur={(e) =>
            onChange(
              e.target.value
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean),
            )
          }
        />
        <Errors id={errorId} errors={fieldErrors} />
      </div>
    );
  }
  const noun = label.replace(/s$/, "").toLowerCase();
  return (
    <fieldset className="field field--group" data-field={path}>
      <legend>{label}</legend>
      {items.map((entry, index) => (
        <div className="field__item" key={index}>
          <ObjectFields
            {...props}
            schema={item}
            path={join(path, index)}
            value={entry}
            onChange={(v) => onChange(items.map((old, i) => (i === index ? v : old)))}
          />
          <button
            type="button"
            disabled={disabled}
            onClick={() => onChange(items.filter((_, i) => i !== index))}
          >
            Remove {noun} {index + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        disabled={disabled}
        onClick={() => onChange([...items, emptyValue(item)])}
      >
        Add {noun}
      </button>
      <Errors id={errorId} errors={fieldErrors} />
    </fieldset>
  );
}
