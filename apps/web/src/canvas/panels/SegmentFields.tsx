// issue 16: the segment trigger's own fields — start from a saved segment (or a lifecycle stage,
// which is a segment too) when customers enter or leave it, or from conditions on the customer —
// and the segment and stage pickers of a split's "is in segment" / "lifecycle stage is" condition.
// The step's other fields stay with the generated form (SchemaForm).
import type { StepType } from "@postpath/journey";
import { getPath } from "@postpath/journey";
import type { ReactNode } from "react";
import { useId } from "react";
import { useShallow } from "zustand/react/shallow";
import type { Config } from "../config.ts";
import { asConfig } from "../config.ts";
import type { CustomField, FieldErrors } from "../SchemaForm.tsx";
import {
  LIFECYCLE_STAGE_PATH,
  LIFECYCLE_STAGES,
  SEGMENT_OP_WORDS,
  SEGMENTS_PATH,
  STAGE_OP_WORDS,
  fitCondition,
  segmentLabel,
  stageName,
  useSegmentDirectory,
  type SegmentOption,
} from "../segments.ts";

/** The trigger's choice: a saved segment (`segmentId` set, even empty) or conditions. */
export function segmentTriggerMode(config: Config): "saved" | "conditions" {
  return config.segmentId !== undefined ? "saved" : "conditions";
}

/** The fields SchemaForm leaves to SegmentTriggerFields, by mode. */
export function segmentTriggerHidden(config: Config): ReadonlySet<string> {
  return segmentTriggerMode(config) === "saved"
    ? new Set(["segmentId", "on", "conditions", "match"])
    : new Set(["segmentId", "on"]);
}

function Errors({ id, errors }: { id: string; errors: readonly string[] | undefined }) {
  if (!errors || errors.length === 0) return null;
  return (
    <p className="field__error" id={id} role="alert">
      {errors.join(" ")}
    </p>
  );
}

/** The segments as the pickers list them: the workspace's own first, then the lifecycle stages. */
function SegmentOptions({
  segments,
  value,
}: {
  segments: readonly SegmentOption[];
  value: string;
}) {
  const custom = segments.filter((s) => s.kind !== "lifecycle");
  const stages = segments.filter((s) => s.kind === "lifecycle");
  const missing = value !== "" && !segments.some((s) => s.id === value);
  return (
    <>
      <option value="">Choose a segment…</option>
      {missing ? <option value={value}>(deleted segment)</option> : null}
      {custom.length > 0 ? (
        <optgroup label="Your segments">
          {custom.map((s) => (
            <option key={s.id} value={s.id}>
              {segmentLabel(s)}
            </option>
          ))}
        </optgroup>
      ) : null}
      {stages.length > 0 ? (
        <optgroup label="Lifecycle stages">
          {stages.map((s) => (
            <option key={s.id} value={s.id}>
              {segmentLabel(s)}
            </option>
          ))}
        </optgroup>
      ) : null}
    </>
  );
}

export function SegmentTriggerFields({
  config,
  onChange,
  errors,
  disabled,
}: {
  config: Config;
  onChange: (config: Config) => void;
  errors: FieldErrors;
  disabled: boolean;
}) {
  const prefix = useId();
  const segments = useSegmentDirectory(useShallow((s) => s.segments));
  const mode = segmentTriggerMode(config);
  const segmentId = typeof config.segmentId === "string" ? config.segmentId : "";
  const fieldErrors = [
    ...(errors.segmentId ?? []),
    ...(mode === "saved" ? (errors.conditions ?? []) : []),
  ];
  const errorId = `${prefix}-segment-error`;
  const choose = (next: "saved" | "conditions") => {
    if (next === mode) return;
    if (next === "saved") onChange({ ...config, segmentId: "", on: "enter", conditions: [] });
    else {
      const { segmentId: _s, on: _o, ...rest } = config;
      onChange(rest);
    }
  };
  return (
    <div className="segment-trigger">
      <fieldset className="field field--group">
        <legend>Start from</legend>
        <div className="field__choices">
          <label>
            <input
              type="radio"
              name={`${prefix}-mode`}
              checked={mode === "saved"}
              disabled={disabled}
              onChange={() => choose("saved")}
            />{" "}
            Saved segment
          </label>
          <label>
            <input
              type="radio"
              name={`${prefix}-mode`}
              checked={mode === "conditions"}
              disabled={disabled}
              onChange={() => choose("conditions")}
            />{" "}
            Conditions on the customer
          </label>
        </div>
      </fieldset>
      {mode === "saved" ? (
        <>
          <div className="field" data-field="segmentId">
            <label htmlFor={`${prefix}-segment`}>Segment</label>
            <select
              id={`${prefix}-segment`}
              value={segmentId}
              disabled={disabled || segments === undefined}
              aria-invalid={fieldErrors.length > 0 ? true : undefined}
              aria-describedby={fieldErrors.length > 0 ? errorId : undefined}
              onChange={(e) => onChange({ ...config, segmentId: e.target.value })}
            >
              <SegmentOptions segments={segments ?? []} value={segmentId} />
            </select>
            <p className="field__hint muted">
              {segments === undefined
                ? "Loading the workspace's segments…"
                : segments.length === 0
                  ? "No saved segments yet: create one in Segments."
                  : "Lifecycle stages are segments too."}{" "}
              <a href="#/segments">Manage segments</a>
            </p>
            <Errors id={errorId} errors={fieldErrors} />
          </div>
          <fieldset className="field field--group" data-field="on">
            <legend>Start the journey</legend>
            <div className="field__choices">
              <label>
                <input
                  type="radio"
                  name={`${prefix}-on`}
                  checked={config.on !== "leave"}
                  disabled={disabled}
                  onChange={() => onChange({ ...config, on: "enter" })}
                />{" "}
                When they enter the segment
              </label>
              <label>
                <input
                  type="radio"
                  name={`${prefix}-on`}
                  checked={config.on === "leave"}
                  disabled={disabled}
                  onChange={() => onChange({ ...config, on: "leave" })}
                />{" "}
                When they leave the segment
              </label>
            </div>
          </fieldset>
        </>
      ) : null}
    </div>
  );
}

/** A condition's comparison or value: a split's `conditions.N`, a coupon rule's `when.N`. */
const CONDITION_FIELD = /^((?:.*\.)?(?:conditions|when)\.\d+)\.(op|value)$/;

/** Steps whose conditions may read memberships: splits and coupon rules. */
const READS_MEMBERSHIPS: ReadonlySet<StepType> = new Set([
  "split.condition",
  "split.multi",
  "action.coupon",
]);

function Select({
  field,
  children,
  multiple,
}: {
  field: CustomField;
  children: ReactNode;
  multiple?: boolean;
}) {
  const value = multiple
    ? (Array.isArray(field.value) ? field.value : []).map(String)
    : typeof field.value === "string"
      ? field.value
      : "";
  return (
    <select
      id={field.id}
      value={value}
      multiple={multiple}
      disabled={field.disabled}
      aria-invalid={field.invalid}
      aria-describedby={field.describedBy}
      onChange={(e) =>
        field.onChange(
          multiple
            ? [...e.target.selectedOptions].map((o) => o.value)
            : e.target.value === ""
              ? undefined
              : e.target.value,
        )
      }
    >
      {children}
    </select>
  );
}

/**
 * The comparison and value of a split's (or a coupon rule's) condition on membership, as pickers: "is in" / "is not
 * in" a segment chosen by name (with its size), or "is" / "is one of" lifecycle stages by name.
 * Undefined for every other field (the generated control stays).
 */
export function membershipField(
  type: StepType,
  config: unknown,
  path: string,
  field: CustomField,
  segments: readonly SegmentOption[] | undefined,
): { label?: string; control: ReactNode } | undefined {
  if (!READS_MEMBERSHIPS.has(type)) return undefined;
  const m = CONDITION_FIELD.exec(path);
  if (!m) return undefined;
  const condition = asConfig(getPath(config, m[1]!));
  const key = m[2];
  if (condition.property === SEGMENTS_PATH) {
    if (key === "op")
      return {
        control: (
          <Select field={field}>
            {Object.entries(SEGMENT_OP_WORDS).map(([op, words]) => (
              <option key={op} value={op}>
                {words}
              </option>
            ))}
          </Select>
        ),
      };
    return {
      label: "Segment",
      control: (
        <Select field={field}>
          <SegmentOptions
            segments={segments ?? []}
            value={typeof field.value === "string" ? field.value : ""}
          />
        </Select>
      ),
    };
  }
  if (condition.property === LIFECYCLE_STAGE_PATH) {
    if (key === "op")
      return {
        control: (
          <Select field={field}>
            {Object.entries(STAGE_OP_WORDS).map(([op, words]) => (
              <option key={op} value={op}>
                {words}
              </option>
            ))}
          </Select>
        ),
      };
    const many = condition.op === "in" || condition.op === "notIn";
    const stages = LIFECYCLE_STAGES.map((s) => (
      <option key={s} value={s}>
        {stageName(s)}
      </option>
    ));
    return {
      label: many ? "Lifecycle stages" : "Lifecycle stage",
      control: many ? (
        <Select field={field} multiple>
          {stages}
        </Select>
      ) : (
        <Select field={field}>
          <option value="">Choose a stage…</option>
          {stages}
        </Select>
      ),
    };
  }
  return undefined;
}

/** Each condition of a split or a coupon rule fitted to its property (membership: a comparison
 * that works). */
export function fitSplitConditions(type: StepType, config: Config): Config {
  if (type === "action.coupon" && Array.isArray(config.rules))
    return {
      ...config,
      rules: (config.rules as unknown[]).map((r): unknown => {
        const rule = asConfig(r);
        return Array.isArray(rule.when) ? { ...rule, when: rule.when.map(fitCondition) } : r;
      }),
    };
  if (type === "split.condition" && Array.isArray(config.conditions))
    return { ...config, conditions: config.conditions.map(fitCondition) };
  if (type === "split.multi" && Array.isArray(config.branches))
    return {
      ...config,
      branches: (config.branches as unknown[]).map((b): unknown => {
        const branch = asConfig(b);
        return Array.isArray(branch.conditions)
          ? { ...branch, conditions: branch.conditions.map(fitCondition) }
          : b;
      }),
    };
  return config;
}
