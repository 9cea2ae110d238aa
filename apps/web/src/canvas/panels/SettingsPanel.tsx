// Journey settings: entry rules, exit criteria, goal, quiet hours, frequency cap, time zone —
// a form generated from `JourneySettings`, with the issues `validate()` reports for `settings.*`.
import { JourneySettings } from "@postpath/journey";
import { useMemo } from "react";
import { z } from "zod";
import { useShallow } from "zustand/react/shallow";
import { useCatalogDetails } from "../catalog.ts";
import { providedBy, settingsPicker, triggerEventOf, valueHint } from "../pickers.ts";
import type { JsonSchema } from "../SchemaForm.tsx";
import { SchemaForm } from "../SchemaForm.tsx";
import { useEditorStore } from "../store.ts";

let settingsSchema: JsonSchema | null = null;
/** The settings form's JSON Schema (entry rules include "Count entries separately for each value of"). */
export function schema(): JsonSchema {
  settingsSchema ??= z.toJSONSchema(JourneySettings, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return settingsSchema;
}

export function SettingsPanel() {
  const { settings, issues, updateSettings, editable, nodes } = useEditorStore(
    useShallow((s) => ({
      settings: s.settings,
      issues: s.issues,
      updateSettings: s.updateSettings,
      editable: s.editable,
      nodes: s.nodes,
    })),
  );
  // Events, and the trigger's properties, as pickers of what the workspace has seen (issue 16).
  const workspace = useCatalogDetails((s) => s.workspace);
  const pickers = useMemo(() => {
    const ctx = { workspace, triggerEvent: triggerEventOf(nodes), provided: providedBy(nodes) };
    return (path: string) => settingsPicker(settings, path, ctx);
  }, [workspace, nodes, settings]);
  const hints = useMemo(
    () => (path: string) => valueHint(pickers, settings, path),
    [pickers, settings],
  );
  const errors = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const issue of issues) {
      if (!issue.nodeId && issue.field?.startsWith("settings."))
        (out[issue.field.slice("settings.".length)] ??= []).push(issue.message);
    }
    return out;
  }, [issues]);
  const timeZones = useMemo(
    () => (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []),
    [],
  );
  return (
    <section className="panel" aria-labelledby="settings-title">
      <h2 id="settings-title">Journey settings</h2>
      <p className="muted">
        Who may enter (and again), what ends a run early, the goal that counts as a conversion, and
        sending limits.
      </p>
      <SchemaForm
        schema={schema()}
        value={settings}
        errors={errors}
        disabled={!editable}
        lists={{ timezone: "time-zones" }}
        pickers={pickers}
        hints={hints}
        onChange={(value) => updateSettings(value as Record<string, unknown>)}
      />
      <datalist id="time-zones">
        {timeZones.map((tz) => (
          <option key={tz} value={tz} />
        ))}
      </datalist>
    </section>
  );
}
