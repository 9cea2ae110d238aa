import { Liquid } from "liquidjs";
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
    expect(err.message).toBe(
      "template error in body: used too much memory while rendering; check its loops and ranges",
    );
    const nested =
      "{% for i in (1..3000) %}{% for j in (1..3000) %}{{ i }}{% endfor %}{% endfor %}";
    await expect(renderTemplate(nested, {}, { field: "subject" })).rejects.toThrow(
      "template error in subject: took too long to render (over 500 ms); check its loops",
    );
  });

  it("takes its Liquid and limits from the caller (the engine passes journey's)", async () => {
    const made: boolean[] = [];
    const engine = createTemplateEngine({
      createLiquid: (o) => {
        made.push(o.escapeHtml === true);
        const liquid = new Liquid({ strictFilters: true, templates: {} });
        for (const [name, f] of Object.entries(o.filters ?? {})) liquid.registerFilter(name, f);
        return liquid;
      },
      limits: { renderLimit: 1_000, memoryLimit: 1_000, outputLimit: 10 },
    });
    expect(made).toEqual([false, true]);
    await expect(engine.render("{{ 'abc' | upcase }}", {}, { field: "x" })).resolves.toBe("ABC");
    await expect(engine.render("{{ a }}{{ a }}", { a: "123456" }, { field: "x" })).rejects.toThrow(
      "template error in x: produced too much text (over 10 characters)",
    );
    await expect(
      engine.render("{% for i in (1..5000) %}{% endfor %}", {}, { field: "x" }),
    ).rejects.toThrow(/used too much memory/);
    // The factory is given the qr_code filter to register.
    await expect(engine.render("{{ '' | qr_code }}", {}, { field: "x" })).resolves.toBe("");
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
