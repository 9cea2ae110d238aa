import { describe, expect, it } from "vitest";
import { renderTemplate } from "./liquid.ts";
import { createQrCode } from "./qrcode.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(dataUrl: string): { width: number; height: number } {
  const png = Buffer.from(dataUrl.slice("data:image/png;base64,".length), "base64");
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe("QR codes for personalised URLs", () => {
  it("returns an SVG document and a PNG data URL of the requested width", async () => {
    const qr = await createQrCode("https://shop.example/p/ann-7f3a", { width: 300 });
    expect(qr.svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(qr.svg).toContain("<path");
    expect(qr.pngDataUrl.startsWith("data:image/png;base64,")).toBe(true);
    expect(pngSize(qr.pngDataUrl)).toEqual({ width: 300, height: 300 });
  });

  it("different URLs give different codes; empty or oversized input is refused", async () => {
    const a = await createQrCode("https://shop.example/p/a");
    const b = await createQrCode("https://shop.example/p/b");
    expect(a.svg).not.toBe(b.svg);
    await expect(createQrCode("")).rejects.toThrow(/empty/);
    await expect(createQrCode(`https://x.example/${"a".repeat(3000)}`)).rejects.toThrow(/too long/);
  });

  it("the qr_code filter turns a URL variable into an image source", async () => {
    const html = await renderTemplate(
      '<img src="{{ purl | qr_code }}">',
      { purl: "https://shop.example/p/ann" },
      { field: "body", escape: "html" },
    );
    const src = /src="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(pngSize(src).width).toBe(256);
    await expect(
      renderTemplate('<img src="{{ missing | qr_code }}">', {}, { field: "body" }),
    ).resolves.toBe('<img src="">');
  });
});
