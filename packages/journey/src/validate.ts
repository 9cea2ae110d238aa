// Validation of a draft: every problem keyed by node/edge id with a stable code and a sentence a
// marketer understands. `analyze` also returns what the compiler needs, so a draft is read once.
import { z } from "zod";
import type { ValidationIssue } from "./issues.ts";
import { registry } from "./registry.ts";
import { DEFAULT_BRANCH, SCHEMA_VERSION, type StepType, isStepType } from "./schema.ts";
import { JourneySettings } from "./settings.ts";
import type { AnyStepModule, Catalog, Provided, TriggerInfo } from "./steps/module.ts";
import { closestName } from "./suggest.ts";
import { BUILTIN_TEMPLATE_ROOTS, CUSTOMER_FIELDS, analyzeTemplate } from "./templating.ts";

const LooseDraft = z.object({
  schemaVersion: z.unknown(),
  settings: z.unknown().optional(),
  nodes: z.array(
    z.object({
      id: z.string().min(1),
      type: z.string(),
      position: z.unknown().optional(),
      data: z.record(z.string(), z.unknown()).nullish(),
    }),
  ),
  edges: z.array(
    z.object({
      id: z.string().min(1),
      source: z.string(),
      sourceHandle: z.string().nullish(),
      target: z.string(),
    }),
  ),
});

type LooseDraft = z.infer<typeof LooseDraft>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The common case, checked by hand (a 1,000-node draft is read on every keystroke of the canvas);
 * zod runs only when this fails, to explain what is wrong. Accepts exactly what LooseDraft accepts. */
function looksLikeDraft(d: unknown): d is LooseDraft {
  if (!isRecord(d) || !Array.isArray(d["nodes"]) || !Array.isArray(d["edges"])) return false;
  for (const n of d["nodes"] as unknown[]) {
    if (
      !isRecord(n) ||
      typeof n["id"] !== "string" ||
      n["id"] === "" ||
      typeof n["type"] !== "string"
    )
      return false;
    if (n["data"] !== undefined && n["data"] !== null && !isRecord(n["data"])) return false;
  }
  for (const e of d["edges"] as unknown[]) {
    if (
      !isRecord(e) ||
      typeof e["id"] !== "string" ||
      e["id"] === "" ||
      typeof e["source"] !== "string" ||
      typeof e["target"] !== "string"
    )
      return false;
    const h = e["sourceHandle"];
    if (h !== undefined && h !== null && typeof h !== "string") return false;
  }
  return true;
}

export type AnalyzedNode = {
  id: string;
  type: StepType;
  module: AnyStepModule;
  /** Parsed config, or undefined when the data does not parse. */
  config: unknown;
  label: string;
  /** Branch → target node id (valid edges only). */
  out: Map<string, string>;
};

export type Analysis = {
  issues: ValidationIssue[];
  settings: JourneySettings | null;
  nodes: Map<string, AnalyzedNode>;
  triggerId: string | null;
};

function fieldOf(path: readonly PropertyKey[]): string | undefined {
  return path.length > 0 ? path.map(String).join(".") : undefined;
}

function nodeLabel(
  module: AnyStepModule,
  data: Record<string, unknown> | null | undefined,
): string {
  const label = data?.["label"];
  return typeof label === "string" && label.trim() !== "" ? label.trim() : module.label;
}

export function validate(draft: unknown, catalog: Catalog = {}): ValidationIssue[] {
  return analyze(draft, catalog).issues;
}

export function analyze(draft: unknown, catalog: Catalog = {}): Analysis {
  const issues: ValidationIssue[] = [];
  const nodes = new Map<string, AnalyzedNode>();
  let doc: LooseDraft;
  if (looksLikeDraft(draft)) doc = draft;
  else {
    const envelope = LooseDraft.safeParse(draft);
    if (!envelope.success) {
      for (const i of envelope.error.issues) {
        issues.push({
          code: "draft.invalid",
          message: `The journey document is malformed: ${i.message}`,
          field: fieldOf(i.path),
        });
      }
      return { issues, settings: null, nodes, triggerId: null };
    }
    doc = envelope.data;
  }
  if (doc.schemaVersion !== SCHEMA_VERSION) {
    issues.push({
      code: "draft.schema_version",
      message: `This journey was saved in format ${JSON.stringify(doc.schemaVersion)}; this version reads format ${SCHEMA_VERSION}.`,
      field: "schemaVersion",
    });
  }

  // Settings
  const settingsResult = JourneySettings.safeParse(doc.settings ?? {});
  const settings = settingsResult.success ? settingsResult.data : null;
  if (!settingsResult.success) {
    for (const i of settingsResult.error.issues) {
      issues.push({
        code: "settings.invalid",
        message: i.message,
        field: fieldOf(["settings", ...i.path]),
      });
    }
  }

  // Nodes: ids, types, config
  const dataById = new Map<string, Record<string, unknown>>();
  for (const n of doc.nodes) {
    if (nodes.has(n.id) || dataById.has(n.id)) {
      issues.push({
        code: "node.duplicate_id",
        message: `Two steps share the id "${n.id}".`,
        nodeId: n.id,
      });
      continue;
    }
    const data = n.data ?? {};
    dataById.set(n.id, data);
    if (!isStepType(n.type)) {
      issues.push({
        code: "node.unknown_type",
        message: `"${n.type}" is not a step this version knows.`,
        nodeId: n.id,
      });
      continue;
    }
    const module = registry[n.type];
    const parsed = module.schema.safeParse(data);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        issues.push({
          code: "config.invalid",
          message: i.message,
          nodeId: n.id,
          field: fieldOf(i.path),
        });
      }
    }
    nodes.set(n.id, {
      id: n.id,
      type: n.type,
      module,
      config: parsed.success ? parsed.data : undefined,
      label: nodeLabel(module, data),
      out: new Map(),
    });
  }

  // Exactly one trigger
  const triggers = [...nodes.values()].filter((n) => n.module.family === "trigger");
  const trigger = triggers[0] ?? null;
  if (!trigger) {
    issues.push({
      code: "trigger.missing",
      message: "Add a trigger: it decides who enters this journey.",
    });
  }
  for (const extra of triggers.slice(1)) {
    issues.push({
      code: "trigger.multiple",
      message: `A journey starts from exactly one trigger; "${extra.label}" is a second one.`,
      nodeId: extra.id,
    });
  }
  const triggerInfo: TriggerInfo | null =
    trigger && trigger.config !== undefined && trigger.module.triggerInfo
      ? trigger.module.triggerInfo(trigger.config, catalog)
      : null;

  // Entries counted per value of a trigger property (issue 14): the trigger must carry it.
  const perValueOf = settings?.entry.perValueOf ?? null;
  const carried = triggerInfo?.properties ?? null;
  if (perValueOf !== null && triggerInfo && carried !== null) {
    const top = perValueOf.split(".")[0] ?? perValueOf;
    if (!carried.includes(perValueOf) && !carried.includes(top))
      issues.push({
        code: "settings.entry_value_not_in_trigger",
        field: "settings.entry.perValueOf",
        message:
          triggerInfo.event === null && carried.length === 0
            ? `This journey doesn't start from an event, so there is no "${perValueOf}" to count entries by: no one could enter.`
            : triggerInfo.observed
              ? `The trigger event${triggerInfo.event ? ` "${triggerInfo.event}"` : ""} hasn't been seen carrying "${perValueOf}"; customers whose event lacks it cannot enter.`
              : `The trigger event${triggerInfo.event ? ` "${triggerInfo.event}"` : ""} doesn't carry "${perValueOf}", so no one could enter.`,
        ...(triggerInfo.observed ? { severity: "warning" as const } : {}),
      });
  }

  // Step-specific checks
  for (const n of nodes.values()) {
    if (n.config === undefined || !n.module.check) continue;
    for (const i of n.module.check(n.config, { nodeId: n.id, trigger: triggerInfo, catalog }))
      issues.push({ ...i, nodeId: n.id });
  }

  // Edges
  const edgeIds = new Set<string>();
  const branchInfo = new Map<
    string,
    { required: readonly string[]; optional: readonly string[] }
  >();
  const branchesOf = (n: AnalyzedNode) => {
    let b = branchInfo.get(n.id);
    if (!b) {
      const raw = n.config !== undefined ? n.module.branches(n.config) : null;
      b = raw
        ? { required: raw.required, optional: raw.optional ?? [] }
        : { required: [], optional: [] };
      branchInfo.set(n.id, b);
    }
    return b;
  };
  for (const e of doc.edges) {
    if (edgeIds.has(e.id)) {
      issues.push({
        code: "edge.duplicate_id",
        message: `Two connections share the id "${e.id}".`,
        edgeId: e.id,
      });
      continue;
    }
    edgeIds.add(e.id);
    const source = nodes.get(e.source);
    const target = nodes.get(e.target);
    if (!source) {
      if (!dataById.has(e.source)) {
        issues.push({
          code: "edge.missing_source",
          message: "This connection starts from a step that no longer exists.",
          edgeId: e.id,
        });
      }
      continue;
    }
    if (!target) {
      if (!dataById.has(e.target)) {
        issues.push({
          code: "edge.missing_target",
          message: `"${source.label}" is connected to a step that no longer exists.`,
          edgeId: e.id,
          nodeId: source.id,
        });
      }
      continue;
    }
    const branch = e.sourceHandle ?? DEFAULT_BRANCH;
    if (target.module.family === "trigger") {
      issues.push({
        code: "edge.into_trigger",
        message: "Nothing can lead back into the trigger.",
        edgeId: e.id,
        nodeId: target.id,
      });
      continue;
    }
    if (target.type === "flow.goal") {
      issues.push({
        code: "goal.incoming_edge",
        message: `"${target.label}" is reached when its event happens; it can't have incoming connections.`,
        edgeId: e.id,
        nodeId: target.id,
      });
      continue;
    }
    if (source.config !== undefined) {
      const b = branchesOf(source);
      if (!b.required.includes(branch) && !b.optional.includes(branch)) {
        issues.push({
          code: "edge.unknown_branch",
          message:
            b.required.length + b.optional.length === 0
              ? `"${source.label}" ends the journey; nothing can follow it.`
              : `"${source.label}" has no "${branch}" path.`,
          edgeId: e.id,
          nodeId: source.id,
          branch,
        });
        continue;
      }
    }
    if (source.out.has(branch)) {
      issues.push({
        code: "branch.duplicate",
        message: `The "${branch}" path of "${source.label}" is connected more than once.`,
        edgeId: e.id,
        nodeId: source.id,
        branch,
      });
      continue;
    }
    source.out.set(branch, target.id);
  }

  // Every required branch connected
  for (const n of nodes.values()) {
    if (n.config === undefined) continue;
    for (const branch of branchesOf(n).required) {
      if (!n.out.has(branch)) {
        issues.push({
          code: "branch.unconnected",
          message:
            branch === DEFAULT_BRANCH
              ? `"${n.label}" isn't connected to a next step. Connect it, or end the path with an Exit.`
              : `The "${branch}" path of "${n.label}" isn't connected. Connect it, or end it with an Exit.`,
          nodeId: n.id,
          branch,
        });
      }
    }
  }

  // Reachability from the trigger (goals are reached by their event)
  const reachable = new Set<string>();
  if (trigger) {
    const stack = [trigger.id];
    for (const n of nodes.values()) if (n.type === "flow.goal") stack.push(n.id);
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (reachable.has(id)) continue;
      reachable.add(id);
      for (const t of nodes.get(id)?.out.values() ?? []) if (!reachable.has(t)) stack.push(t);
    }
    for (const n of nodes.values()) {
      if (!reachable.has(n.id) && n.module.family !== "trigger") {
        issues.push({
          code: "node.unreachable",
          message: `No path from the trigger leads to "${n.label}", so no customer will ever get there.`,
          nodeId: n.id,
        });
      }
    }
  }

  // Cycles must contain a wait
  for (const component of cyclicComponents(nodes)) {
    if (component.some((id) => nodes.get(id)?.module.family === "wait")) continue;
    for (const id of component) {
      issues.push({
        code: "graph.cycle_without_wait",
        message: `"${nodes.get(id)?.label ?? id}" is in a loop without a wait: customers would go round it endlessly. Add a wait inside the loop.`,
        nodeId: id,
      });
    }
  }

  if (trigger) issues.push(...checkVariables(nodes, trigger.id, triggerInfo, catalog, reachable));
  return {
    issues,
    settings,
    nodes,
    triggerId: triggers.length === 1 && trigger ? trigger.id : null,
  };
}

/** Strongly connected components that form a cycle (iterative Tarjan). */
function cyclicComponents(nodes: Map<string, AnalyzedNode>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;
  for (const start of nodes.keys()) {
    if (index.has(start)) continue;
    const work: { id: string; targets: string[]; i: number }[] = [];
    const push = (id: string) => {
      index.set(id, counter);
      low.set(id, counter);
      counter++;
      stack.push(id);
      onStack.add(id);
      work.push({ id, targets: [...(nodes.get(id)?.out.values() ?? [])], i: 0 });
    };
    push(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as (typeof work)[number];
      if (frame.i < frame.targets.length) {
        const t = frame.targets[frame.i++] as string;
        if (!index.has(t)) push(t);
        else if (onStack.has(t))
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(t) ?? 0));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let id: string | undefined;
        do {
          id = stack.pop();
          if (id === undefined) break;
          onStack.delete(id);
          component.push(id);
        } while (id !== frame.id);
        const only = component[0];
        const selfLoop =
          component.length === 1 &&
          only !== undefined &&
          [...(nodes.get(only)?.out.values() ?? [])].includes(only);
        if (component.length > 1 || selfLoop) result.push(component.reverse());
      }
    }
  }
  return result;
}

/**
 * Template variables and referenced paths: each must come from the trigger (`event.*`), the
 * customer, or a step every path to this one passes through (a "must" data-flow analysis).
 */
function checkVariables(
  nodes: Map<string, AnalyzedNode>,
  triggerId: string,
  trigger: TriggerInfo | null,
  catalog: Catalog,
  reachable: Set<string>,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const provides = new Map<string, Provided[]>();
  const universe = new Set<string>();
  const attributes = catalog.attributes ? new Set(catalog.attributes) : null;
  /** The fields under each provided name, over every step providing it; null: any field. */
  const fieldsOf = new Map<string, Set<string> | null>();
  /** Names some of whose fields are only observed ones (a warning says "hasn't been seen"). */
  const observedFields = new Set<string>();
  for (const n of nodes.values()) {
    if (n.config === undefined || !n.module.provides) continue;
    const p = n.module.provides(n.config, catalog);
    provides.set(
      n.id,
      p.filter((x) => !x.attribute),
    );
    for (const x of p) {
      if (x.attribute) attributes?.add(x.name);
      else {
        universe.add(x.name);
        if (x.observed) observedFields.add(x.name);
        const known = fieldsOf.get(x.name);
        if (known === null) continue;
        fieldsOf.set(x.name, x.fields ? new Set([...(known ?? []), ...x.fields]) : null);
      }
    }
  }

  // available(n): names guaranteed on arrival at n — a "must" data-flow analysis over bit sets,
  // visiting nodes in reverse post-order so that an acyclic journey settles in one pass.
  const names = [...universe];
  const bit = new Map(names.map((n, i) => [n, i]));
  const words = Math.max(1, Math.ceil(names.length / 32));
  const entries = [...reachable].filter(
    (id) => id === triggerId || nodes.get(id)?.type === "flow.goal",
  );
  const entrySet = new Set(entries);
  const order = reversePostOrder(nodes, entries);
  const incoming = new Map<string, { from: string; mask: number[] }[]>();
  for (const id of order) {
    const n = nodes.get(id);
    if (!n) continue;
    for (const [branch, to] of n.out) {
      const mask: number[] = new Array<number>(words).fill(0);
      for (const p of provides.get(id) ?? []) {
        const i = bit.get(p.name);
        if (i !== undefined && p.on.includes(branch))
          mask[i >>> 5] = ((mask[i >>> 5] ?? 0) | (1 << (i & 31))) >>> 0;
      }
      const list = incoming.get(to) ?? [];
      list.push({ from: id, mask });
      incoming.set(to, list);
    }
  }
  const ALL: readonly number[] = new Array<number>(words).fill(0xffffffff);
  const availableBits = new Map<string, number[]>();
  for (const id of order)
    availableBits.set(id, entrySet.has(id) ? new Array<number>(words).fill(0) : [...ALL]);
  const scratch: number[] = [...ALL];
  for (let changed = true; changed;) {
    changed = false;
    for (const id of order) {
      if (entrySet.has(id)) continue;
      scratch.fill(0xffffffff);
      for (const { from, mask } of incoming.get(id) ?? []) {
        const before = availableBits.get(from) ?? ALL;
        for (let w = 0; w < words; w++)
          scratch[w] = ((scratch[w] ?? 0) & ((before[w] ?? 0) | (mask[w] ?? 0))) >>> 0;
      }
      const current = availableBits.get(id);
      if (!current) continue;
      for (let w = 0; w < words; w++) {
        if (current[w] !== scratch[w]) {
          current[w] = scratch[w] ?? 0;
          changed = true;
        }
      }
    }
  }
  const isAvailable = (id: string, name: string): boolean => {
    const i = bit.get(name);
    const bits = availableBits.get(id);
    return i !== undefined && bits !== undefined && ((bits[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
  };

  const eventProps = trigger?.properties ?? null;
  const warn = (issue: ValidationIssue, suggestion: string | undefined): ValidationIssue => ({
    ...issue,
    message: suggestion ? `${issue.message} Did you mean {{ ${suggestion} }}?` : issue.message,
    severity: "warning",
    ...(suggestion ? { suggestion } : {}),
  });
  const check = (n: AnalyzedNode, field: string, path: readonly string[], show: () => string) => {
    const [root, second, third] = path;
    if (root === undefined) return;
    if (root === "event") {
      if (trigger && trigger.event === null && eventProps !== null && eventProps.length === 0) {
        issues.push({
          code: "template.unknown_variable",
          message: `${show()} reads the trigger event, but this journey doesn't start from an event.`,
          nodeId: n.id,
          field,
        });
      } else if (eventProps !== null && second !== undefined && !eventProps.includes(second)) {
        if (trigger?.observed) {
          // What the workspace has seen of this event so far: a new property may still arrive.
          const near = closestName(second, eventProps);
          issues.push(
            warn(
              {
                code: "template.unknown_variable",
                message: `${show()}: the trigger event hasn't been seen carrying "${second}".`,
                nodeId: n.id,
                field,
              },
              near && `event.${near}`,
            ),
          );
        } else {
          issues.push({
            code: "template.unknown_variable",
            message: `${show()}: the trigger event doesn't carry "${second}".`,
            nodeId: n.id,
            field,
          });
        }
      }
      return;
    }
    if (root === "customer" && second !== undefined && second !== "*") {
      const builtIn = (CUSTOMER_FIELDS as readonly string[]).includes(second);
      if (!builtIn && attributes && !attributes.has(second)) {
        // customer.<name> reads the attribute <name>: checked against what has been observed.
        const near = closestName(second, [...CUSTOMER_FIELDS, ...attributes]);
        issues.push(
          warn(
            {
              code: "template.unknown_variable",
              message: `${show()}: no customer seen so far has the attribute "${second}", and it is no customer field.`,
              nodeId: n.id,
              field,
            },
            near && `customer.${near}`,
          ),
        );
      } else if (
        second === "attributes" &&
        attributes &&
        third !== undefined &&
        third !== "*" &&
        !attributes.has(third)
      ) {
        const near = closestName(third, attributes);
        issues.push(
          warn(
            {
              code: "template.unknown_variable",
              message: `${show()}: no customer seen so far has the attribute "${third}".`,
              nodeId: n.id,
              field,
            },
            near && `customer.attributes.${near}`,
          ),
        );
      }
      return;
    }
    if ((BUILTIN_TEMPLATE_ROOTS as readonly string[]).includes(root) || attributes?.has(root))
      return;
    if (universe.has(root)) {
      if (isAvailable(n.id, root)) {
        // A field the step's output never has (`{{ purl.link }}`): rendered empty at send time.
        const fields = fieldsOf.get(root);
        if (fields && second !== undefined && second !== "*" && !fields.has(second)) {
          const known = [...fields];
          const near = closestName(second, known);
          issues.push(
            warn(
              {
                code: "template.unknown_variable",
                message: observedFields.has(root)
                  ? `${show()}: the event behind "${root}" hasn't been seen carrying "${second}" (seen: ${known.join(", ")}).`
                  : `${show()}: "${root}" has no "${second}"; it has ${known.map((f) => `${root}.${f}`).join(", ")}.`,
                nodeId: n.id,
                field,
              },
              near && `${root}.${near}`,
            ),
          );
        }
        return;
      }
      issues.push({
        code: "template.variable_not_provided",
        message: `${show()} comes from a step that not every customer passes before "${n.label}".`,
        nodeId: n.id,
        field,
      });
      return;
    }
    if (attributes && !attributes.has(root)) {
      // The attributes are those seen on the workspace's customers so far: a warning, since a
      // new attribute may arrive after publishing.
      issues.push(
        warn(
          {
            code: "template.unknown_variable",
            message: `${show()}: no trigger, customer attribute or earlier step provides "${root}".`,
            nodeId: n.id,
            field,
          },
          closestName(root, [...attributes, ...universe]),
        ),
      );
    }
  };

  for (const n of nodes.values()) {
    if (n.config === undefined || !reachable.has(n.id)) continue;
    for (const { field, template } of n.module.templates?.(n.config) ?? []) {
      const analysis = analyzeTemplate(template);
      if (!analysis.ok) {
        issues.push({
          code: "template.syntax",
          message: `This text has a template error: ${analysis.error}`,
          nodeId: n.id,
          field,
        });
        continue;
      }
      if (analysis.risk) {
        issues.push({
          code: "template.slow",
          message: `This text ${analysis.risk}`,
          severity: "warning",
          nodeId: n.id,
          field,
        });
      }
      for (const path of analysis.variables) check(n, field, path, () => `{{ ${path.join(".")} }}`);
    }
    for (const { field, path } of n.module.references?.(n.config) ?? []) {
      check(n, field, path.split("."), () => `"${path}"`);
    }
  }
  return issues;
}

/** Nodes reachable from `entries`, in reverse post-order (a topological order when acyclic). */
function reversePostOrder(nodes: Map<string, AnalyzedNode>, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const post: string[] = [];
  for (const entry of entries) {
    if (seen.has(entry)) continue;
    seen.add(entry);
    const stack: { id: string; targets: string[]; i: number }[] = [
      { id: entry, targets: [...(nodes.get(entry)?.out.values() ?? [])], i: 0 },
    ];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as (typeof stack)[number];
      const t = top.targets[top.i++];
      if (t === undefined) {
        post.push(top.id);
        stack.pop();
      } else if (!seen.has(t)) {
        seen.add(t);
        stack.push({ id: t, targets: [...(nodes.get(t)?.out.values() ?? [])], i: 0 });
      }
    }
  }
  return post.reverse();
}
