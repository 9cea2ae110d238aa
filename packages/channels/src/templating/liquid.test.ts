import { describe, expect, it } from "vitest";
import { TemplateError, createTemplateEngine, renderTemplate } from "./liquid.ts";

const vars = { customer: { first_name: "Ann", tags: ["vip"] }, order: { id: "1001", total: 42.5 } };

async function templateError(promise: Promise<unknown>): Promise<TemplateError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TemplateError);
  return err as TemplateError;
}

describe("Liquid templates", () => {
  it("renders variables and standard filters", async () => {
    await expect(
      renderTemplate(
        "Hi {{ customer.first_name | upcase }}, order #{{ order.id }} ({{ order.total | times: 2 }})",
        vars,
        { field: "subject" },
      ),
    ).resolves.toBe("Hi ANN, order #1001 (85)");
  });

  it("a missing variable renders empty (lenient variables)", async () => {
    await expect(
      renderTemplate("Hi {{ customer.last_name }}!{{ nothing.at.all }}", vars, { field: "body" }),
    ).resolves.toBe("Hi !");
  });

  it("an unknown filter is an error naming the field (strict filters)", async () => {
    const err = await templateError(
      renderTemplate("{{ order.total | money }}", vars, { field: "subject" }),
    );
    expect(err.field).toBe("subject");
    expect(err.message).toMatch(/^template error in subject: undefined filter: money/);
  });

  it("a syntax error names the field and the position", async () => {
    const err = await templateError(
      renderTemplate("Hello\n{% if customer %}unclosed", vars, { field: "body" }),
    );
    expect(err.field).toBe("body");
    expect(err.detail).toMatch(/not closed, line:2/);
  });

  it("escapes outputs for HTML fields unless `raw` is used", async () => {
    const evil = { name: `<a href="https://phish.example">Ann</a>` };
    await expect(
      renderTemplate("<p>{{ name }}</p>", evil, { field: "body", escape: "html" }),
    ).resolves.toBe("<p>&lt;a href=&#34;https://phish.example&#34;&gt;Ann&lt;/a&gt;</p>");
    await expect(
      renderTemplate("{{ name | raw }}", evil, { field: "body", escape: "html" }),
    ).resolves.toBe(evil.name);
    await expect(renderTemplate("{{ name }}", evil, { field: "text" })).resolves.toBe(evil.name);
  });

  it("cannot read files: include/render only reach registered partials", async () => {
    const err = await templateError(
      renderTemplate("{% include 'package.json' %}", vars, { field: "body" }),
    );
    expect(err.detail).toMatch(/Failed to lookup "package.json"/);

    const engine = createTemplateEngine({ partials: { footer: "— {{ shop }} team" } });
    await expect(
      engine.render("Thanks{% render 'footer', shop: 'Acme' %}", {}, { field: "body" }),
    ).resolves.toBe("Thanks— Acme team");
  });

  it("runaway loops hit the render limits instead of stalling the worker", async () => {
    const err = await templateError(
      renderTemplate("{% for i in (1..100000000) %}xxxxxxxx{% endfor %}", {}, { field: "body" }),
    );
    expect(err.detail).toMatch(/limit exceeded/);
  });

  it("only own properties are visible (no prototype walking)", async () => {
    await expect(
      renderTemplate("{{ customer.constructor.name }}|{{ customer.toString }}", vars, {
        field: "x",
      }),
    ).resolves.toBe("|");
  });

  it("dates render in the engine's time zone", async () => {
    const berlin = createTemplateEngine({ timezone: "Europe/Berlin" });
    const at = { at: "2024-07-01T22:30:00Z" };
    await expect(
      renderTemplate("{{ at | date: '%Y-%m-%d %H:%M' }}", at, { field: "x" }),
    ).resolves.toBe("2024-07-01 22:30");
    await expect(
      berlin.render("{{ at | date: '%Y-%m-%d %H:%M' }}", at, { field: "x" }),
    ).resolves.toBe("2024-07-02 00:30");
  });

  it("lists the variables a template reads and validates without rendering", async () => {
    const engine = createTemplateEngine();
    await expect(
      engine.variables(
        "{{ customer.first_name }} {% for t in customer.tags %}{{ t }}{% endfor %}",
        "body",
      ),
    ).resolves.toEqual(["customer.first_name", "customer.tags"]);
    expect(() => engine.validate("{{ a | nope }}", "title")).toThrow(
      /template error in title: undefined filter: nope/,
    );
    expect(() => engine.validate("{{ a | downcase }}", "title")).not.toThrow();
  });
});
