// Regression: the journey package's Liquid used the default file system, so a template such as
// `{% include 'package.json' %}` rendered a file from the server's working directory.
import { describe, expect, it } from "vitest";
import { renderTemplate } from "./index.ts";

describe("templates cannot read files", () => {
  it("refuses include/render of a file that exists in the working directory", () => {
    expect(() => renderTemplate("{% include 'package.json' %}", {})).toThrow();
    expect(() => renderTemplate("{% render 'package.json' %}", {})).toThrow();
    expect(renderTemplate("Hi {{ name }}", { name: "Ada" })).toBe("Hi Ada");
  });
});
