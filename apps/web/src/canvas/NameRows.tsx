// issue 16 (pickers, not free text): fields that hold several names — an "Update attribute" step's
// attributes to set (name → new value) and its attributes to clear — as one row per name, each
// name a NamePicker fed by what the workspace has seen (kinds of value, examples), still taking a
// new name with the "never seen yet" warning. SchemaForm draws these when its `pickers` answers
// for a record or a list of names; without a picker the plain controls stay.
import { useEffect, useRef, useState } from "react";
import { NamePicker } from "../components/NamePicker.tsx";
import type { FieldErrors } from "./SchemaForm.tsx";
import type { PickerSource } from "./pickers.ts";

type Row = { name: string; value: string };

const article = (noun: string) => (/^[aeiou]/i.test(noun) ? "an" : "a");
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function shown(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * What a typed value stores: text for a name seen holding text (a zip code stays "0123"), else
 * numbers, yes/no and lists stay typed as in a condition's value; templates stay text.
 */
export function typedValue(text: string, seenType: string | undefined): unknown {
  const t = text.trim();
  if (seenType === "text" || t === "" || t.includes("{")) return text;
  if (t === "true" || t === "false") return t === "true";
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t.startsWith("[") || t.startsWith("{")) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function rowsOf(value: unknown): Row[] {
  const obj =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  return Object.entries(obj).map(([name, v]) => ({ name, value: shown(v) }));
}

const namesOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

function Errors({ id, errors }: { id: string; errors: readonly string[] | undefined }) {
  if (!errors || errors.length === 0) return null;
  return (
    <p className="field__error" id={id} role="alert">
      {errors.join(" ")}
    </p>
  );
}

interface RowsProps {
  id: string;
  path: string;
  label: string;
  value: unknown;
  onChange: (value: unknown) => void;
  picker: PickerSource;
  errors: FieldErrors;
  disabled: boolean | undefined;
}

/**
 * The rows a control edits for a stored value. They keep what the marketer is typing (a row with
 * no name yet is drawn but not stored); when the value changes from elsewhere (undo, another
 * step), they are drawn afresh from it. `store(rows, value)` keeps the rows and stores the value;
 * the third item draws rows without storing (an empty row added).
 */
function useRows<R>(
  value: unknown,
  rowsFrom: (value: unknown) => R[],
  onChange: (value: unknown) => void,
): readonly [R[], (rows: R[], value: unknown) => void, (rows: R[]) => void] {
  const [rows, setRows] = useState<R[]>(() => rowsFrom(value));
  // What this control last stored, to tell its own changes from others'.
  const stored = useRef(JSON.stringify(value ?? null));
  useEffect(() => {
    const now = JSON.stringify(value ?? null);
    if (now !== stored.current) {
      stored.current = now;
      setRows(rowsFrom(value));
    }
  }, [value, rowsFrom]);
  const store = (next: R[], out: unknown) => {
    setRows(next);
    stored.current = JSON.stringify(out);
    onChange(out);
  };
  return [rows, store, setRows] as const;
}

/** `{ name: value }`: a name picker and its new value per row (the "Update attribute" step's set). */
export function NameValueRows({
  id,
  path,
  label,
  value,
  onChange,
  picker,
  errors,
  disabled,
}: RowsProps) {
  const noun = picker.noun ?? "name";
  const [rows, store, setRows] = useRows(value, rowsOf, onChange);
  const optionOf = (name: string) => picker.options.find((o) => o.name === name);
  const commit = (next: Row[]) => {
    const out: Record<string, unknown> = {};
    for (const r of next)
      if (r.name.trim() !== "") out[r.name.trim()] = typedValue(r.value, optionOf(r.name)?.type);
    store(next, out);
  };
  const update = (i: number, patch: Partial<Row>) =>
    commit(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const errorId = `${id}-error`;
  return (
    <fieldset className="field field--group name-rows" data-field={path}>
      <legend>{label}</legend>
      {rows.length === 0 ? <p className="muted">None yet.</p> : null}
      {rows.map((row, i) => {
        const option = optionOf(row.name);
        const twice = row.name !== "" && rows.findIndex((r) => r.name === row.name) < i;
        const rowErrors = [
          ...(twice ? [`“${row.name}” is already set above: the last value wins.`] : []),
          ...(row.name ? (errors[`${path}.${row.name}`] ?? []) : []),
        ];
        const hint = [
          option?.type ? `${capital(option.type)}` : undefined,
          option?.examples && option.examples.length > 0
            ? `seen: ${option.examples.join(", ")}`
            : undefined,
        ]
          .filter(Boolean)
          .join(", ");
        const rowId = `${id}-${i}`;
        return (
          <div className="field__item name-rows__row" key={i}>
            <div className="field">
              <label htmlFor={`${rowId}-name`}>
                {capital(noun)} {i + 1}
              </label>
              <NamePicker
                id={`${rowId}-name`}
                value={row.name}
                onChange={(name) => update(i, { name })}
                {...picker}
                {...(disabled === undefined ? {} : { disabled })}
              />
            </div>
            <div className="field">
              <label htmlFor={`${rowId}-value`}>New value</label>
              <input
                id={`${rowId}-value`}
                type="text"
                value={row.value}
                disabled={disabled}
                placeholder={
                  option?.examples?.[0] !== undefined
                    ? `e.g. ${option.examples[0]}`
                    : "a value, or {{ event.property }}"
                }
                aria-invalid={rowErrors.length > 0 ? true : undefined}
                aria-describedby={
                  [hint ? `${rowId}-hint` : "", rowErrors.length > 0 ? `${rowId}-error` : ""]
                    .filter(Boolean)
                    .join(" ") || undefined
                }
                onChange={(e) => update(i, { value: e.target.value })}
              />
              {hint ? (
                <p className="field__hint muted" id={`${rowId}-hint`}>
                  {hint}
                </p>
              ) : null}
              <Errors id={`${rowId}-error`} errors={rowErrors} />
            </div>
            <button
              type="button"
              disabled={disabled}
              onClick={() => commit(rows.filter((_, j) => j !== i))}
            >
              Remove {noun} {i + 1}
            </button>
          </div>
        );
      })}
      <button
        type="button"
        disabled={disabled}
        onClick={() => setRows([...rows, { name: "", value: "" }])}
      >
        Add {article(noun)} {noun}
      </button>
      <Errors id={errorId} errors={errors[path]} />
    </fieldset>
  );
}

/** A list of names, one picker per row (the "Update attribute" step's attributes to clear). */
export function NameListRows({
  id,
  path,
  label,
  value,
  onChange,
  picker,
  errors,
  disabled,
}: RowsProps) {
  const noun = picker.noun ?? "name";
  const [rows, store, setRows] = useRows(value, namesOf, onChange);
  const commit = (next: string[]) =>
    store(
      next,
      next.filter((n) => n.trim() !== ""),
    );
  return (
    <fieldset className="field field--group name-rows" data-field={path}>
      <legend>{label}</legend>
      {rows.length === 0 ? <p className="muted">None yet.</p> : null}
      {rows.map((name, i) => (
        <div className="field__item name-rows__row" key={i}>
          <div className="field">
            <label htmlFor={`${id}-${i}`}>
              {capital(noun)} to clear {i + 1}
            </label>
            <NamePicker
              id={`${id}-${i}`}
              value={name}
              onChange={(next) => commit(rows.map((r, j) => (j === i ? next : r)))}
              {...picker}
              {...(disabled === undefined ? {} : { disabled })}
            />
          </div>
          <button
            type="button"
            disabled={disabled}
            onClick={() => commit(rows.filter((_, j) => j !== i))}
          >
            Remove {noun} to clear {i + 1}
          </button>
        </div>
      ))}
      <button type="button" disabled={disabled} onClick={() => setRows([...rows, ""])}>
        Add {article(noun)} {noun} to clear
      </button>
      <Errors id={`${id}-error`} errors={errors[path]} />
    </fieldset>
  );
}
