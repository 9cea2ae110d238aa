// The side panel for one step: a form generated from the step's zod schema, its problems per
// field (errors) and its warnings, and for messages the template variables (the sample's and the
// workspace's observed attributes) and a live preview.
import { analyzeTemplate, renderTemplate, stepModule } from "@postpath/journey";
import type { Catalog, StepType, ValidationIssue } from "@postpath/journey";
import { useMemo } from "react";
import { z } from "zod";
import { useShallow } from "zustand/react/shallow";
import { asConfig } from "../config.ts";
import { useCatalogDetails } from "../catalog.ts";
import { providedBy, stepPicker, triggerEventOf, valueHint, type Provided } from "../pickers.ts";
import { previewContext } from "../sample.ts";
import type { CustomField, FieldErrors, JsonSchema } from "../SchemaForm.tsx";
import { SchemaForm, fieldLabel } from "../SchemaForm.tsx";
import { canvasName, distinctStepNames } from "../stepNames.ts"; // issue 18: names, not ids
import { useEditorStore } from "../store.ts";
import { branchesOf } from "../steps/index.ts";
import type { StepEdge, StepNode } from "../types.ts";
import { previewSubject, useTestRunStore } from "./testRunStore.ts";
import { PrintRunPanel } from "./PrintRunPanel.tsx"; // issue 14: print runs
import { useSegmentDirectory } from "../segments.ts"; // issue 16: segment pickers
import { useStepResources } from "../resources.ts"; // issue 16: page and coupon pool pickers
import {
  SegmentTriggerFields,
  fitSplitConditions,
  membershipField,
  segmentTriggerHidden,
} from "./SegmentFields.tsx";

const schemas = new Map<StepType, JsonSchema>();

/** The step's config schema as JSON Schema (input side: defaults are optional). */
export function stepJsonSchema(type: StepType): JsonSchema {
  let s = schemas.get(type);
  if (!s) {
    s = z.toJSONSchema(stepModule(type).schema, {
      io: "input",
      unrepresentable: "any",
    }) as JsonSchema;
    schemas.set(type, s);
  }
  return s;
}

/** What the step's form calls one of its fields ("page" → "Landing page"); issue 18. */
export function stepFieldLabel(type: StepType, field: string): string {
  return fieldLabel(stepJsonSchema(type), field);
}

const MULTILINE = new Set(["body", "message"]);
const TEMPLATE_FIELDS = ["subject", "preheader", "title", "body", "message", "url"];

/** Issues with a field go under it; the rest are listed above the form. */
export function errorsByField(issues: readonly ValidationIssue[]): {
  fields: FieldErrors;
  general: string[];
} {
  const fields: Record<string, string[]> = {};
  const general: string[] = [];
  for (const issue of issues) {
    if (issue.field) (fields[issue.field] ??= []).push(issue.message);
    else general.push(issue.message);
  }
  return { fields, general };
}

/**
 * What earlier steps add for templates, from the whole journey: each output's fields where the
 * step knows them (`purl.url`, `purl.qrUrl`, `coupon.code`), else `name.…` (a webhook's response).
 * Attributes a step sets are listed with the attributes.
 */
export function providedVariables(provided: readonly Provided[]): string[] {
  const out = new Set<string>();
  for (const p of provided) {
    if (p.attribute) out.add(p.name);
    else if (p.fields) for (const f of p.fields) out.add(`${p.name}.${f}`);
    else out.add(`${p.name}.…`);
  }
  return [...out];
}

/** The properties the workspace has seen on the journey's trigger event, if it starts from one. */
function triggerEventProperties(
  nodes: readonly StepNode[],
  catalog: Catalog,
): readonly string[] | null {
  const trigger = nodes.find((n) => n.data.stepType === "trigger.event");
  const event = trigger ? asConfig(trigger.data.config).event : undefined;
  return typeof event === "string" ? (catalog.eventProperties?.[event] ?? null) : null;
}

const NO_ISSUES: ValidationIssue[] = [];

export function StepPanel({ node }: { node: StepNode }) {
  const { issues, warnings, catalog, updateConfig, editable, nodes, edges, connect, disconnect } =
    useEditorStore(
      useShallow((s) => ({
        issues: s.issuesByNode[node.id],
        warnings: s.warningsByNode[node.id] ?? NO_ISSUES,
        catalog: s.catalog,
        updateConfig: s.updateConfig,
        editable: s.editable,
        nodes: s.nodes,
        edges: s.edges,
        connect: s.connect,
        disconnect: s.disconnect,
      })),
    );
  const type = node.data.stepType;
  const module = stepModule(type);
  const config = asConfig(node.data.config);
  const { fields, general } = useMemo(() => errorsByField(issues ?? []), [issues]);
  const schema = stepJsonSchema(type);
  const templateFields = TEMPLATE_FIELDS.filter(
    (f) => typeof config[f] === "string" && f in (schema.properties ?? {}),
  );
  const providedOutputs = useMemo(() => providedBy(nodes, catalog), [nodes, catalog]);
  const provided = useMemo(() => providedVariables(providedOutputs), [providedOutputs]);
  const eventProperties = useMemo(() => triggerEventProperties(nodes, catalog), [nodes, catalog]);
  const workspace = useCatalogDetails((s) => s.workspace);
  const triggerEvent = useMemo(() => triggerEventOf(nodes), [nodes]);
  const { pages, couponPools } = useStepResources(type);
  const pickers = useMemo(() => {
    const ctx = { workspace, triggerEvent, provided: providedOutputs, pages, couponPools };
    return (path: string) => stepPicker(type, config, path, ctx);
  }, [type, config, workspace, triggerEvent, providedOutputs, pages, couponPools]);
  const hints = useMemo(
    () => (path: string) => valueHint(pickers, config, path),
    [pickers, config],
  );
  // issue 16: a split's "is in segment" / "lifecycle stage is" conditions get pickers by name.
  const segments = useSegmentDirectory((s) => s.segments);
  const renderField = useMemo(
    () => (path: string, field: CustomField) =>
      membershipField(type, config, path, field, segments),
    [type, config, segments],
  );
  const setConfig = (value: Record<string, unknown>) =>
    updateConfig(node.id, {
      ...fitSplitConditions(type, value),
      ...(config.label === undefined ? {} : { label: config.label }),
    });

  return (
    <section className="panel" aria-labelledby="step-panel-title">
      {/* issue 18: the kind of step in the palette's words; its id ("discount · action.coupon")
          is the store's, not the marketer's (kept as data-step-id for tests and support). */}
      <h2 id="step-panel-title" data-step-id={node.id}>
        {module.label}
      </h2>
      {general.length > 0 ? (
        <ul className="panel__problems" aria-label="Problems with this step">
          {general.map((m, i) => (
            <li key={i} className="form-error">
              {m}
            </li>
          ))}
        </ul>
      ) : null}
      {warnings.length > 0 ? (
        <ul className="panel__warnings" aria-label="Warnings for this step">
          {warnings.map((w, i) => (
            <li key={i}>
              <span className="status status--paused">Warning</span>{" "}
              {w.field ? <span className="muted">{stepFieldLabel(type, w.field)}: </span> : null}
              {w.message}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="field">
        <label htmlFor={`label-${node.id}`}>
          Name on the canvas <span className="muted">(optional)</span>
        </label>
        <input
          id={`label-${node.id}`}
          type="text"
          value={typeof config.label === "string" ? config.label : ""}
          disabled={!editable}
          onChange={(e) => {
            const { label: _old, ...rest } = config;
            updateConfig(
              node.id,
              e.target.value === "" ? rest : { ...rest, label: e.target.value },
            );
          }}
        />
      </div>
      {type === "trigger.segment" ? (
        <SegmentTriggerFields
          config={config}
          errors={fields}
          disabled={!editable}
          onChange={(value) => setConfig({ ...value })}
        />
      ) : null}
      <SchemaForm
        key={node.id}
        schema={schema}
        value={config}
        errors={fields}
        multiline={MULTILINE}
        pickers={pickers}
        hints={hints}
        renderField={renderField}
        {...(type === "trigger.segment" ? { hidden: segmentTriggerHidden(config) } : {})}
        disabled={!editable}
        onChange={(value) => setConfig(value as Record<string, unknown>)}
      />
      <Connections
        node={node}
        nodes={nodes}
        edges={edges}
        editable={editable}
        onConnect={(branch, target) =>
          target === ""
            ? disconnect(node.id, branch)
            : connect({ source: node.id, sourceHandle: branch, target, targetHandle: null })
        }
      />
      {templateFields.length > 0 ? (
        <TemplatePreview
          config={config}
          fields={templateFields}
          provided={provided}
          attributes={catalog.attributes ?? NO_NAMES}
          eventProperties={eventProperties}
        />
      ) : null}
      {type === "action.purl" ? <PrintRunPanel stepId={node.id} /> : null}
    </section>
  );
}

/**
 * Where each branch of this step leads, as one select per branch: the keyboard (and screen
 * reader) way to draw and move edges, equivalent to dragging from the branch's handle.
 */
function Connections({
  node,
  nodes,
  edges,
  editable,
  onConnect,
}: {
  node: StepNode;
  nodes: readonly StepNode[];
  edges: readonly StepEdge[];
  editable: boolean;
  onConnect: (branch: string, target: string) => void;
}) {
  const branches = branchesOf(node.data.stepType, node.data.config);
  if (branches.length === 0) return null;
  const others = nodes.filter((n) => n.id !== node.id);
  const names = distinctStepNames(nodes);
  const nameOf = (n: StepNode) => names.get(n.id) ?? canvasName(n);
  return (
    <fieldset className="panel__connections">
      <legend>Connections</legend>
      {branches.map((b) => {
        const edge = edges.find((e) => e.source === node.id && (e.sourceHandle ?? "next") === b.id);
        const id = `connect-${node.id}-${b.id}`;
        return (
          <div className="field" key={b.id}>
            <label htmlFor={id}>
              {branches.length === 1 && b.id === "next" ? "Then go to" : `${b.label} goes to`}
              {b.optional ? <span className="muted"> (optional)</span> : null}
            </label>
            <select
              id={id}
              value={edge?.target ?? ""}
              disabled={!editable}
              onChange={(e) => onConnect(b.id, e.target.value)}
            >
              <option value="">— not connected —</option>
              {others.map((n) => (
                <option key={n.id} value={n.id}>
                  {nameOf(n)}
                </option>
              ))}
            </select>
          </div>
        );
      })}
    </fieldset>
  );
}

const NO_NAMES: readonly string[] = [];

function TemplatePreview({
  config,
  fields,
  provided,
  attributes,
  eventProperties,
}: {
  config: Record<string, unknown>;
  fields: string[];
  /** What earlier steps give (`purl.url`, `coupon.code`, `crm.…`). */
  provided: string[];
  /** Attribute names the workspace's customers have (journeys.catalog). */
  attributes: readonly string[];
  /** Properties seen on the trigger event (null: not known). */
  eventProperties: readonly string[] | null;
}) {
  // The test-run customer once the marketer described one (Test run tab), else the sample.
  const { customerText, events } = useTestRunStore(
    useShallow((s) => ({ customerText: s.customerText, events: s.events })),
  );
  const who = useMemo(() => previewSubject(customerText, events), [customerText, events]);
  const context = useMemo(() => previewContext(who.customer, who.event), [who]);
  const used = new Set<string>();
  for (const f of fields) {
    const a = analyzeTemplate(String(config[f]));
    if (a.ok) for (const path of a.variables) used.add(path.join("."));
  }
  const available = [
    ...new Set([
      // The workspace's customers' attributes, then the preview customer's.
      ...attributes,
      ...Object.keys(context).filter(
        (k) => !["customer", "event", "run", "steps", "coupon", "purl"].includes(k),
      ),
      "customer.email",
      "customer.phone",
      ...(eventProperties && eventProperties.length > 0
        ? eventProperties.map((p) => `event.${p}`)
        : ["event.<property>"]),
      "run.id",
      ...provided,
    ]),
  ];
  return (
    <section className="preview" aria-label="Message preview">
      <h3>Variables</h3>
      <p className="muted">
        Write <code>{"{{ first_name }}"}</code> to insert a value. Available:
      </p>
      <ul className="preview__vars">
        {available.map((v) => (
          <li key={v}>
            <code>{`{{ ${v} }}`}</code>
          </li>
        ))}
      </ul>
      {used.size > 0 ? (
        <p className="muted">This message uses: {[...used].map((u) => `{{ ${u} }}`).join(", ")}</p>
      ) : null}
      <h3>Preview ({who.label})</h3>
      {who.note ? <p className="muted">{who.note}</p> : null}
      {fields.map((f) => {
        let rendered: string;
        try {
          rendered = renderTemplate(String(config[f]), context);
        } catch (e) {
          rendered = `Template error: ${e instanceof Error ? e.message : String(e)}`;
        }
        const html = f === "body" && (config.format === undefined || config.format === "html");
        return (
          <div key={f} className="preview__field" data-preview={f}>
            <div className="muted">{f}</div>
            {html ? (
              // Rendered HTML in a sandbox: no scripts, no access to the app.
              <iframe
                className="preview__html"
                sandbox=""
                title={`Preview of the ${f}`}
                srcDoc={rendered}
              />
            ) : (
              <div className="preview__text">{rendered}</div>
            )}
          </div>
        );
      })}
    </section>
  );
}
