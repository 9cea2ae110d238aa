// QR codes for personalised URLs (PURLs): an SVG string for web pages and a PNG data URL for
// e-mail (the SMTP provider turns data-URL images into inline CID attachments, which mail
// clients display where they would block a data: URL).
import QRCode from "qrcode";

export interface QrCodeOptions {
  /** PNG width in pixels (default 256). */
  width?: number;
  /** Quiet zone in modules (default 2). */
  margin?: number;
  /** Error correction level (default "M"). */
  errorCorrectionLevel?: "L" | "M" | "Q" | "H";
}

export interface QrCode {
  svg: string;
  pngDataUrl: string;
}

/** The most a QR code can hold (version 40, byte mode, level L); PURLs are far shorter. */
const MAX_QR_TEXT = 2_953;

function check(text: string): void {
  if (text.length === 0) throw new RangeError("QR code text is empty");
  if (Buffer.byteLength(text, "utf8") > MAX_QR_TEXT)
    throw new RangeError("QR code text is too long");
}

export async function createQrCode(url: string, options: QrCodeOptions = {}): Promise<QrCode> {
  check(url);
  const errorCorrectionLevel = options.errorCorrectionLevel ?? "M";
  const margin = options.margin ?? 2;
  const [svg, pngDataUrl] = await Promise.all([
    QRCode.toString(url, { type: "svg", errorCorrectionLevel, margin }),
    QRCode.toDataURL(url, {
      type: "image/png",
      errorCorrectionLevel,
      margin,
      width: options.width ?? 256,
    }),
  ]);
  return { svg, pngDataUrl };
}

/** PNG data URL only (used by the `qr_code` Liquid filter). */
export function qrCodeDataUrl(url: string, options: QrCodeOptions = {}): Promise<string> {
  check(url);
  return QRCode.toDataURL(url, {
    type: "image/png",
    errorCorrectionLevel: options.errorCorrectionLevel ?? "M",
    margin: options.margin ?? 2,
    width: options.width ?? 256,
  });
}
