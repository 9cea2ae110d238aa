// issue 14: the one stylesheet of a served landing page (inlined by the server: no extra request,
// no web fonts, no third-party hosts). Mobile-first: one column at 360 px, columns from 640 px.
export const PAGE_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1.0625rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2024;background:#f5f6f8}
.pp-page{--pp-accent:#1f5f8b;max-width:42rem;margin:0 auto;padding:1.25rem 1rem 3rem;background:#fff;min-height:100vh}
.pp-heading{color:var(--pp-accent);line-height:1.2;margin:1rem 0 .75rem;overflow-wrap:anywhere}
h1.pp-heading{font-size:1.75rem}h2.pp-heading{font-size:1.375rem}h3.pp-heading{font-size:1.125rem}
.pp-align-center{text-align:center}
.pp-text p{margin:0 0 .9rem;overflow-wrap:anywhere;white-space:pre-line}
.pp-image{display:block;max-width:100%;height:auto;margin:1rem 0;border-radius:.5rem}
.pp-placeholder{padding:2rem;background:#eef0f3;color:#555;text-align:center}
.pp-button-row{margin:1rem 0}
.pp-button{display:inline-block;min-height:2.75rem;padding:.65rem 1.25rem;border-radius:.5rem;border:2px solid var(--pp-accent);font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.pp-primary{background:var(--pp-accent);color:#fff}
.pp-secondary{background:#fff;color:var(--pp-accent)}
.pp-button:focus-visible,.pp-field input:focus-visible,.pp-field select:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.pp-card{border:1px solid #d8dce1;border-radius:.75rem;padding:1rem;margin:1rem 0;display:flex;gap:1rem;flex-wrap:wrap}
.pp-card-image{width:6rem;height:auto;border-radius:.5rem}
.pp-card-title{font-size:1.25rem;margin:0 0 .25rem}
.pp-card-subtitle{margin:0 0 .5rem;color:#4a5058}
.pp-coupon{display:block;text-align:center;border-style:dashed;border-width:2px;border-color:var(--pp-accent)}
.pp-coupon-code{font:700 1.75rem/1.2 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.08em;margin:.5rem 0;overflow-wrap:anywhere}
.pp-coupon-pending{font-weight:600}
.pp-form{margin:1.5rem 0}
.pp-form-title{font-size:1.375rem;margin:0 0 1rem}
.pp-field{margin:0 0 1rem}
.pp-field label{display:block;font-weight:600;margin:0 0 .3rem}
.pp-field input:not([type=checkbox]),.pp-field select{display:block;width:100%;min-height:2.75rem;padding:.55rem .7rem;font:inherit;border:1px solid #8a9099;border-radius:.4rem;background:#fff;color:inherit}
.pp-check{display:grid;grid-template-columns:auto 1fr;gap:.25rem .6rem;align-items:start}
.pp-check input{width:1.4rem;height:1.4rem;margin:.15rem 0 0}
.pp-check label{font-weight:400}
.pp-check .pp-field-error{grid-column:2}
.pp-required{font-weight:400;color:#4a5058}
.pp-invalid input,.pp-invalid select{border-color:#b3261e;border-width:2px}
.pp-field-error{color:#b3261e;margin:.3rem 0 0;font-size:.95rem}
.pp-error-summary{border-left:4px solid #b3261e;background:#fdecea;padding:.6rem .8rem;margin:0 0 1rem}
.pp-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.pp-columns{display:grid;gap:1rem;grid-template-columns:1fr}
@media (min-width:40rem){.pp-page{padding:2rem 2rem 4rem}.pp-cols-1-1{grid-template-columns:1fr 1fr}.pp-cols-2-1{grid-template-columns:2fr 1fr}.pp-cols-1-2{grid-template-columns:1fr 2fr}}
.pp-message{text-align:center;padding-top:3rem}
`;
